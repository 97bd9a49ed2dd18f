"""The web chat widget's public endpoints, mounted at /widget/<key>/: no login, hostile input
assumed.

JSON in and out. The widget runs on the customer's site, so every answer carries CORS headers
for an allowed origin (preflight included) and a page from any other site gets 403. There are
no cookies: the visitor's session token travels in `Authorization: Bearer ...`, which is why
the endpoints are exempt from CSRF. Requests are rate-limited per address and per session, and
bodies are size-limited before they are read; an error names the field and stores nothing.

Live updates are short polls (`GET messages?since=<last id>` every `POLL_MS`): under gunicorn's
threaded workers a held-open request (long poll or server-sent events) would occupy one of the
few threads per visitor, while a poll is one indexed query and returns at once.
"""

import json
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from opencx.platform import ratelimit
from opencx.platform.errors import AppError, NotFound, Throttled, TooLarge, Unauthorized

from . import widget
from .widget import visitor_message_dict

MAX_REQUEST_BYTES = 32 * 1024
POLL_MS = 2000
ALLOWED_HEADERS = "Authorization, Content-Type"


class OriginRefused(AppError):
    status = 403
    code = "forbidden"


class MethodNotAllowed(AppError):
    status = 405
    code = "method_not_allowed"


def _limit(name: str, default: int) -> int:
    return getattr(settings, name, default)


def _throttle(scope: str, key: str, setting: str, default: int) -> None:
    if not ratelimit.allow(f"web-chat-{scope}", key, limit=_limit(setting, default)):
        raise Throttled("Too many requests; wait a minute and try again.")


def _own_origin(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _cors(response, request, config) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if origin and (config is None or _origin_ok(request, config)):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    return response


def _origin_ok(request, config) -> bool:
    origin = request.headers.get("Origin", "")
    # No Origin: not a cross-site browser call (curl, a server); the token still decides.
    return not origin or origin == _own_origin(request) or widget.origin_allowed(config, origin)


def _error(request, config, error: AppError) -> HttpResponse:
    return _cors(JsonResponse(error.as_dict(), status=error.status), request, config)


def widget_endpoint(*methods: str, session: bool = True):
    """Key lookup, origin check and preflight, per-address rate limit, the visitor's session
    (when `session`), and AppError as JSON: `view(request, config, visitor_session)`."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, key: str):
            config = widget.web_chat_for_key(key=key)
            try:
                if config is None:
                    raise NotFound("No such chat.", field="key")
                if not _origin_ok(request, config):
                    raise OriginRefused("This site may not use this chat.", field="origin")
                if request.method == "OPTIONS":
                    response = HttpResponse(status=204)
                    response["Access-Control-Allow-Methods"] = ", ".join([*methods, "OPTIONS"])
                    response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                    return _cors(response, request, config)
                if request.method not in methods:
                    raise MethodNotAllowed(f"Use {' or '.join(methods)}.", field="method")
                _throttle("ip", ratelimit.client_ip(request), "WEBCHAT_RATE_PER_IP", 600)
                visitor = _visitor(request, config) if session else None
                return _cors(view(request, config, visitor), request, config)
            except AppError as error:
                return _error(request, config, error)

        return wrapper

    return decorate


def _visitor(request, config):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    visitor = None
    if scheme.lower() == "bearer":
        visitor = widget.visitor_session_for_token(config=config, token=token.strip())
    if visitor is None:
        raise Unauthorized("Start a chat session first (POST session/).", field="token")
    _throttle("session", str(visitor.pk), "WEBCHAT_RATE_PER_SESSION", 120)
    return visitor


def _json_body(request) -> dict:
    length = request.META.get("CONTENT_LENGTH") or "0"
    too_large = TooLarge(f"The request is over {MAX_REQUEST_BYTES // 1024} KB.", field="body")
    if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
        raise too_large
    try:
        raw = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(raw) > MAX_REQUEST_BYTES:
        raise too_large
    if not raw:
        return {}
    try:
        payload = json.loads(raw)
    except ValueError:
        raise AppError("The request is not JSON.", field="body") from None
    if not isinstance(payload, dict):
        raise AppError("Send a JSON object.", field="body")
    return payload


def _config_dict(config) -> dict:
    return {
        "name": config.inbox.name,
        "greeting": config.greeting,
        "colour": config.colour,
        "ask_for_email": config.ask_for_email,
        "poll_ms": POLL_MS,
    }


@widget_endpoint("GET", session=False)
def config_view(request, config, _visitor):
    """How the widget looks and greets."""
    return JsonResponse(_config_dict(config))


@widget_endpoint("POST", session=False)
def session_start(request, config, _visitor):
    """A new visitor session; its token is in this answer only."""
    _throttle("new-session", ratelimit.client_ip(request), "WEBCHAT_SESSIONS_PER_IP", 20)
    _json_body(request)
    issued = widget.visitor_session_start(config=config)
    return JsonResponse({"token": issued.token, **_config_dict(config)}, status=201)


@widget_endpoint("GET", "POST")
def messages_view(request, config, visitor):
    """GET: the conversation's messages after `since` (an id). POST {"id": uuid, "body": text}:
    what the visitor wrote (201; 200 when this id was stored before)."""
    if request.method == "GET":
        since = request.GET.get("since", "0")
        if not (since.isascii() and since.isdigit() and len(since) <= 12):
            raise AppError("Give since as a message id (a whole number).", field="since")
        found = widget.visitor_messages(session=visitor, since=int(since))
        return JsonResponse(
            {"messages": [visitor_message_dict(m) for m in found], "poll_ms": POLL_MS}
        )
    _throttle("send", str(visitor.pk), "WEBCHAT_MESSAGES_PER_SESSION", 30)
    payload = _json_body(request)
    received = widget.visitor_message_send(
        session=visitor, client_id=payload.get("id"), body=payload.get("body")
    )
    return JsonResponse(
        {"message": visitor_message_dict(received.message), "created": received.created},
        status=201 if received.created else 200,
    )


@widget_endpoint("POST")
def identify_view(request, config, visitor):
    """POST {"name": ..., "email": ...}: who the visitor says they are (both optional)."""
    payload = _json_body(request)
    visitor = widget.visitor_identify(
        session=visitor, name=payload.get("name") or "", email=payload.get("email") or ""
    )
    return JsonResponse({"name": visitor.name, "email": visitor.email})


@require_safe
def demo_page(request, key: str):
    """A plain page with the widget embedded: to try the chat, and for the browser test."""
    config = widget.web_chat_for_key(key=key)
    if config is None:
        return render(request, "ui/error.html", {"error": NotFound("No such chat.")}, status=404)
    return render(
        request,
        "inbox/widget_demo.html",
        {"config": config, "snippet": embed_snippet(request, config)},
    )


def embed_snippet(request, config) -> str:
    """The line a site adds before </body> to show the chat."""
    src = request.build_absolute_uri(static("inbox/widget.js"))
    return f'<script src="{src}" data-opencx-chat="{config.widget_key}" async></script>'
