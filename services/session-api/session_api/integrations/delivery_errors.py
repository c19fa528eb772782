"""The one error hierarchy of the notification providers (mail server, SMS provider)."""


class DeliveryError(Exception):
    """The provider did not take the message. ``permanent``: trying again cannot help (an unknown
    recipient, a refused number); otherwise it is worth retrying later."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
