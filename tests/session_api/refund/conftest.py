"""Refund flows run on the whole system (``tests/session_api/flows/flow.py``)."""

from tests.session_api.flows.conftest import flow, make_flow

__all__ = ["flow", "make_flow"]
