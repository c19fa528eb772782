"""`python -m payment_gateway`: serve the API."""

import uvicorn

from payment_gateway.config import settings

if __name__ == "__main__":
    uvicorn.run(
        "payment_gateway.main:build",
        factory=True,
        host=settings.HOST,
        port=settings.PORT,
        log_config=None,
        proxy_headers=True,
    )
