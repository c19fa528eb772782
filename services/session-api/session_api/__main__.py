"""`python -m session_api`: serve the API."""

import uvicorn

from session_api.config import settings

if __name__ == "__main__":
    uvicorn.run(
        "session_api.main:build",
        factory=True,
        host=settings.HOST,
        port=settings.PORT,
        log_config=None,
        proxy_headers=True,
    )
