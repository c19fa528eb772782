"""`python -m payment_gateway`: serve the API."""

import uvicorn

from payment_gateway.config import settings
from shared.serving import tls_options

if __name__ == "__main__":
    uvicorn.run(
        "payment_gateway.main:build",
        factory=True,
        host=settings.HOST,
        port=settings.PORT,
        log_config=None,
        # Our middleware logs every request, its path redacted; uvicorn's line would repeat it raw.
        access_log=False,
        **tls_options(settings.TLS_CERT_FILE, settings.TLS_KEY_FILE),
        # The callback allow-list resolves the client from X-Forwarded-For itself, counting
        # GATEWAY_TRUSTED_PROXY_HOPS; uvicorn rewriting the peer first would count twice.
        proxy_headers=False,
    )
