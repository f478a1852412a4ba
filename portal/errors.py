"""Errors shared by every package: services raise them, views and APIs turn them into answers."""


class ServiceError(ValueError):
    """Bad input for an operation: `errors` maps field → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
