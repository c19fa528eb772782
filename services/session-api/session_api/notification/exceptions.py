from shared.errors import NotFound


class NotificationNotFound(NotFound):
    """No such notification among yours."""
