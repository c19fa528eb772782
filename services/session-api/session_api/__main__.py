"""`python -m session_api`: serve the API."""

import uvicorn

from session_api.config import settings
from shared.serving import tls_options

if __name__ == "__main__":
    uvicorn.run(
        "session_api.main:build",
        factory=True,
        host=settings.HOST,
        port=settings.PORT,
        log_config=None,
        # Our middleware logs every request, its path redacted; uvicorn's line would repeat it raw.
        access_log=False,
        **tls_options(settings.TLS_CERT_FILE, settings.TLS_KEY_FILE),
        proxy_headers=True,
    )
