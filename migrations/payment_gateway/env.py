from payment_gateway import models
from shared import alembic_env

alembic_env.run(models.Base.metadata)
