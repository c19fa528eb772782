from shared.errors import NotFound


class ProductNotFound(NotFound):
    """No such product on sale."""
