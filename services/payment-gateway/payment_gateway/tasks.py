"""The registry of payment-gateway's arq jobs; each domain's `tasks.py` registers into it."""

from shared.worker import TaskRegistry

registry = TaskRegistry()
