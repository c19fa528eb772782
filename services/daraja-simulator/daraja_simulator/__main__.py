"""`python -m daraja_simulator`: serve the simulator."""

import uvicorn

from daraja_simulator.config import settings

if __name__ == "__main__":
    uvicorn.run(
        "daraja_simulator.main:build",
        factory=True,
        host=settings.HOST,
        port=settings.PORT,
        log_config=None,
        # Our middleware logs every request, its path redacted; uvicorn's line would repeat it raw.
        access_log=False,
    )
