"""The registry of payment-gateway's arq jobs; each domain's `tasks.py` registers into it with
`@registry.task(name, max_tries=..., timeout_s=...)`.

The worker keeps no job results (`keep_result = 0` in `worker.py`): job ids then only deduplicate
jobs that are queued or running, so the same id can be enqueued again once a job has finished.
"""

from __future__ import annotations

from shared.worker import TaskRegistry

registry = TaskRegistry()
