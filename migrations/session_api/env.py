from session_api import models
from shared import alembic_env

alembic_env.run(models.Base.metadata)
