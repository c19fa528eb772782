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
    )
