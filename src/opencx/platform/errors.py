"""The one application error type. Views and the API map it to HTTP in one place each."""


class AppError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        # Seconds after which the same request may succeed (the Retry-After header), if known.
        self.retry_after = retry_after
        if code:
            self.code = code

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


class NotFound(AppError):
    status = 404
    code = "not_found"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Unauthorized(AppError):
    """No credentials, or ones that name nobody (a public endpoint's token or signature)."""

    status = 401
    code = "unauthorized"


class TooLarge(AppError):
    status = 413
    code = "too_large"


class Throttled(AppError):
    status = 429
    code = "throttled"


class Busy(AppError):
    """Too much of this kind of work at once: the request may be sent again (see lanes.py)."""

    status = 503
    code = "busy"
