"""SMS through Africa's Talking's HTTP API, called with httpx (their SDK blocks and has no
timeout)."""

from session_api.integrations.africastalking.client import SmsClient

__all__ = ["SmsClient"]
