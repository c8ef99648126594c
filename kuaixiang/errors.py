"""The one domain error type. API and web map it to ``{"code", "message", "details"}``."""


class DomainError(Exception):
    """A refused request: ``code`` is for machines, ``message`` (Chinese) for people."""

    status = 400

    def __init__(self, code: str, message: str, details: dict | None = None, *, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(DomainError, ValueError):
    """Bad input (400). Also a ``ValueError`` so pydantic validators can raise it per field."""

    status = 400


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409
