"""Public endpoints the providers call: SMS (Twilio-compatible), Facebook/Instagram (Meta) and
Google reviews (Pub/Sub push), one address per inbox under `/hooks/inbox/<inbox id>/...`.

Every request goes through the same gate, in this order:
1. the inbox exists, is of this kind and is switched on (else 404);
2. the body is within the kind's size limit, judged from Content-Length before it is read and
   again while reading (413);
3. the provider's signature or secret is valid (403, and a warning in the log naming the inbox
   and why; the body is not parsed);
4. the body parses into the provider's shape (400 naming the field);
5. everything it carries is stored in one transaction, each message once per provider id:
   a delivery with one bad message stores none (400), and a delivery sent again adds nothing;
   the transaction waits for an inbound lane (platform/lanes.py): 503 and Retry-After if none
   frees in time, and the provider sends it again.
No session or CSRF token: the signature is the authentication.
"""

import json
import logging
import urllib.parse
from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from opencx.platform.errors import AppError, Busy
from opencx.platform.lanes import inbound_lanes
from opencx.platform.ratelimit import client_ip
from opencx.platform.sms import verify_twilio_signature
from opencx.surveys.flows import public_url

from .channels import google_reviews, meta, sms
from .channels.hooks import PayloadError
from .models import Inbox

logger = logging.getLogger("opencx.inbox.webhooks")

MAX_SMS = 64 * 1024  # a Twilio form with ten media URLs is a few KB
MAX_META = 1024 * 1024  # Meta batches up to 1000 events
MAX_GOOGLE = 64 * 1024
MAX_FORM_FIELDS = 200
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "field": field}, status=status)


def _inbox(inbox_id: int, kinds: set[str]) -> Inbox:
    inbox = (
        Inbox.objects.select_related("brand", "location")
        .filter(pk=inbox_id, kind__in=kinds, is_active=True)
        .first()
    )
    if inbox is None:
        raise Refused(404, "not_found", "No such inbox, or it is switched off.")
    return inbox


def _body(request: HttpRequest, limit: int) -> bytes:
    length = request.META.get("CONTENT_LENGTH") or "0"
    too_large = Refused(413, "too_large", f"The body is over {limit // 1024} KB.", "body")
    if not (length.isascii() and length.isdigit()):
        raise Refused(400, "invalid", "Content-Length is not a number.", "body")
    if int(length) > limit:
        raise too_large
    body = request.read(limit + 1)  # never more than the limit, whatever the header said
    if len(body) > limit:
        raise too_large
    return body


def _refuse_signature(inbox: Inbox, request: HttpRequest, reason: str) -> Refused:
    logger.warning(
        "Inbox %s (%s) webhook refused: %s (from %s)",
        inbox.pk,
        inbox.kind,
        reason,
        client_ip(request),
    )
    return Refused(403, "forbidden", "The request's signature is not valid.", "signature")


def _json(body: bytes):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError(f"The body is not JSON ({error}).", field="body") from None


def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        return urllib.parse.parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            max_num_fields=MAX_FORM_FIELDS,
            errors="strict",  # Twilio sends UTF-8; anything else is not its form
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError(f"The body is not a form ({error}).", field="body") from None


def _store_all(store: Callable[[], None]) -> None:
    """Run `store` in one transaction, in an inbound lane (Busy, a 503, if none frees); a
    service's refusal rolls it all back and is a 400."""
    with inbound_lanes().hold():
        try:
            with transaction.atomic():
                store()
        except AppError as error:
            raise PayloadError(error.message, field=error.field or "") from None


def _gate(handler):
    """Turn Refused and PayloadError into the error answers above."""

    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return handler(request, *args, **kwargs)
        except Refused as refused:
            return _error(refused.status, refused.code, refused.message, refused.field)
        except PayloadError as error:
            return _error(400, "invalid", error.message, error.field or None)
        except Busy as busy:  # the provider sends it again: delivery is idempotent
            response = _error(busy.status, busy.code, busy.message)
            response["Retry-After"] = str(busy.retry_after)
            return response

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return csrf_exempt(wrapper)


# --- SMS ---------------------------------------------------------------------------------


def _twilio_form(request: HttpRequest, inbox: Inbox) -> dict[str, str]:
    body = _body(request, MAX_SMS)
    try:  # read leniently to check the signature first: an unsigned body is not parsed for 400s
        signed_pairs = urllib.parse.parse_qsl(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except ValueError:
        signed_pairs = []
    signature = request.headers.get(sms.SIGNATURE_HEADER, "")
    # Twilio signs the address it was given: ours as the public sees it (OPENCX_PUBLIC_HOST),
    # not as the proxy in front of us rewrote it.
    url = public_url(request.get_full_path())
    if not signature:
        raise _refuse_signature(inbox, request, "no X-Twilio-Signature")
    if not verify_twilio_signature(url, signed_pairs, signature, inbox.sms.auth_token):
        raise _refuse_signature(inbox, request, "bad X-Twilio-Signature")
    return dict(_form(body))


@_gate
@require_http_methods(["POST"])
def sms_inbound(request: HttpRequest, inbox_id: int) -> HttpResponse:
    """A text message from a customer; answered with empty TwiML (no automatic reply)."""
    inbox = _inbox(inbox_id, {Inbox.Kind.SMS})
    message = sms.parse_inbound(_twilio_form(request, inbox))
    _store_all(lambda: sms.store_inbound(inbox, message))
    return HttpResponse(TWIML_EMPTY, content_type="text/xml")


@_gate
@require_http_methods(["POST"])
def sms_status(request: HttpRequest, inbox_id: int) -> HttpResponse:
    """A delivery report of one of our replies."""
    inbox = _inbox(inbox_id, {Inbox.Kind.SMS})
    report = sms.parse_status(_twilio_form(request, inbox))
    _store_all(lambda: sms.store_status(inbox, report))
    return HttpResponse(status=204)


# --- Facebook and Instagram ----------------------------------------------------------------


@_gate
@require_http_methods(["GET", "POST"])
def meta_webhook(request: HttpRequest, inbox_id: int, kind: str) -> HttpResponse:
    """GET: Meta's subscription check. POST: messages and comments of the page."""
    inbox = _inbox(inbox_id, {kind} & {Inbox.Kind.FACEBOOK, Inbox.Kind.INSTAGRAM})
    config = inbox.meta
    if request.method == "GET":
        challenge = meta.subscription_challenge(config, request.GET)
        if challenge is None:
            raise _refuse_signature(inbox, request, "subscription check with a wrong verify token")
        return HttpResponse(challenge, content_type="text/plain")
    body = _body(request, MAX_META)
    header = request.headers.get(meta.SIGNATURE_HEADER, "")
    if not meta.signature_valid(config, body, header):
        reason = "bad X-Hub-Signature-256" if header else "no X-Hub-Signature-256"
        raise _refuse_signature(inbox, request, reason)
    items = meta.parse_webhook(_json(body), config=config)

    def store():
        for item in items:
            meta.store_item(inbox, item)

    _store_all(store)
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


# --- Google reviews ----------------------------------------------------------------------


@_gate
@require_http_methods(["POST"])
def google_reviews_push(request: HttpRequest, inbox_id: int) -> HttpResponse:
    """A Pub/Sub push of a review notification; 204 when handled (or not ours to handle), 502
    when Google would not give us the review (Pub/Sub delivers again later)."""
    inbox = _inbox(inbox_id, {Inbox.Kind.GOOGLE_REVIEWS})
    config = inbox.google_reviews
    body = _body(request, MAX_GOOGLE)
    why = google_reviews.push_authorised(
        config,
        request.GET.get("token", ""),
        body,
        request.headers.get(google_reviews.SIGNATURE_HEADER, ""),
    )
    if why:
        raise _refuse_signature(inbox, request, why)
    notification = google_reviews.parse_push(_json(body))
    if not notification.review_name or not google_reviews.is_ours(config, notification.review_name):
        # Acknowledge: refusing would make Pub/Sub deliver it again and again.
        logger.info("Inbox %s: ignored %s notification", inbox.pk, notification.type)
        return HttpResponse(status=204)
    try:
        review = google_reviews.fetch_review(config, notification.review_name)
    except google_reviews.ReviewUnavailable as error:
        logger.warning(
            "Inbox %s: review %s not read: %s", inbox.pk, notification.review_name, error
        )
        return _error(502, "unavailable", "Google did not give us the review; try again later.")
    _store_all(lambda: google_reviews.store_review(inbox, review))
    return HttpResponse(status=204)
