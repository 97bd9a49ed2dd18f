"""One error format for the whole API: {"code", "message", "field"}, mapped in one place."""

import logging
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from opencx.platform.errors import AppError

logger = logging.getLogger("opencx.api")

_CODES_BY_STATUS = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid",
    429: "throttled",
}


class Error(Schema):
    """Every error response has this shape."""

    code: str
    message: str
    field: str | None = None


# Add to an operation's `response=` so the error shapes are in the OpenAPI document.
READ_ERRORS: dict[int, type[Schema]] = {401: Error, 404: Error, 422: Error}
WRITE_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 400: Error, 403: Error, 409: Error}


def error_body(status: int, message: str, *, field: str | None = None, code: str = "") -> dict:
    return {
        "code": code or _CODES_BY_STATUS.get(status, "error"),
        "message": message,
        "field": field,
    }


def _field_of(loc: tuple | list) -> str | None:
    """Dotted location without the source, and without the body parameter's own name."""
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
        source, parts = parts[0], parts[1:]
        if source == "body" and len(parts) > 1:
            parts = parts[1:]
    return ".".join(parts) or None


def validation_error_body(errors: list[dict]) -> dict:
    fields = [_field_of(error.get("loc", ())) for error in errors]
    messages = [
        f"{field}: {error.get('msg', 'invalid value')}" if field else error.get("msg", "invalid")
        for field, error in zip(fields, errors, strict=True)
    ]
    return error_body(
        422, "; ".join(messages) or "Invalid request.", field=fields[0] if fields else None
    )


def install_error_handlers(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, body: dict) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(AppError)
    def app_error(request, exc: AppError):
        response = respond(request, exc.status, exc.as_dict())
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return respond(request, 422, validation_error_body(exc.errors))

    @api.exception_handler(Http404)
    def not_found(request, exc: Http404):
        return respond(request, 404, error_body(404, "Not found."))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc: AuthenticationError):
        message = exc.message if exc.message != "Unauthorized" else _UNAUTHORIZED
        return respond(request, 401, error_body(401, message))

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = getattr(exc, "code", "")
        return respond(
            request, exc.status_code, error_body(exc.status_code, exc.message, code=code)
        )

    @api.exception_handler(Exception)
    def server_error(request, exc: Exception):
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return respond(request, 500, error_body(500, _SERVER_ERROR, code="server_error"))


_UNAUTHORIZED = "Authentication required: send `Authorization: Bearer ocx_…` or sign in."
_SERVER_ERROR = "Something went wrong on our side. The error was logged; please try again."


def method_not_allowed_as_json(view):
    """Wrap a ninja path view so its 405 answer uses the error format too."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            body = error_body(
                405, f"Method {request.method} is not allowed here (allowed: {allowed})."
            )
            json_response = JsonResponse(body, status=405)
            json_response["Allow"] = allowed
            return json_response
        return response

    return wrapper


def unknown_route(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    return JsonResponse(error_body(404, f"No API route at {request.path}."), status=404)
