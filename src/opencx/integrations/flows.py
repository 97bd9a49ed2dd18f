"""Webhooks: fan-out of public events to endpoints, and sending one delivery attempt.

Fan-out: every internal event named in the catalogue is subscribed here. After its transaction
commits, the brand's active endpoints that want the public event get one delivery each, with
the same `event_id`; that id is derived from the event and its payload, so the same occurrence
emitted twice is queued once per endpoint (a unique constraint holds it).

Sending: `webhook_deliver` claims one attempt with a conditional UPDATE (status and attempt
count as read), so two workers never send the same attempt. 2xx is delivered; anything else
(a refusal, a redirect — never followed —, a timeout, a connection error) is failed and due
again after the next back-off step, until the last one: gave up. A worker that dies mid-send
leaves the claim, which lapses after `SENDING_LEASE` (at least once, never in parallel).
"""

import http.client
import json
import logging
import time
import urllib.request
import uuid
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from opencx.platform.events import emit, subscribe
from opencx.platform.models import Brand

from .catalogue import CATALOGUE, PublicEvent, public_event
from .models import WebhookDelivery, WebhookEndpoint
from .services import DELIVERY_QUEUED, SENDING_LEASE, envelope
from .signing import HEADER, sign

logger = logging.getLogger(__name__)

TIMEOUT_S = 10
MAX_RESPONSE = 2048
USER_AGENT = "OpenCX-Webhooks/1"
# Wait before each retry; after the last one fails the delivery gives up.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
EVENT_NAMESPACE = uuid.UUID("6f1c1f3e-4a8e-4f55-9b0b-0c0e3c1d0a11")
NETWORK_ERRORS = (OSError, http.client.HTTPException, ValueError)


# --- fan-out ----------------------------------------------------------------------------------


def event_id_for(name: str, source_kwargs: dict, data: dict) -> str:
    """The same id for the same occurrence: the public name, the ids it was emitted with and
    the payload (which carries the object's state), hashed."""
    key = json.dumps([name, source_kwargs, data], sort_keys=True, default=str)
    return str(uuid.uuid5(EVENT_NAMESPACE, key))


def fan_out(public: PublicEvent, **kwargs) -> list[WebhookDelivery]:
    """Queue the event for every active endpoint of its brand that wants it; the new ones."""
    brand_id = kwargs.get("brand_id")
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(brand_id=brand_id, is_active=True)
        if endpoint.wants(public.name)
    ]
    if not endpoints:
        return []
    data = public.build(**kwargs)
    if data is None:
        return []
    brand = Brand.objects.get(pk=brand_id)
    event_id = kwargs.get("event_id") or event_id_for(public.name, kwargs, data)
    now = timezone.now()
    body = envelope(event=public.name, event_id=event_id, brand_slug=brand.slug, data=data, at=now)
    created = []
    for endpoint in endpoints:
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    brand_id=brand_id,
                    endpoint=endpoint,
                    event=public.name,
                    event_id=event_id,
                    payload=body,
                    next_attempt_at=now,
                    created_at=now,
                )
                emit(DELIVERY_QUEUED, delivery_id=delivery.pk)
        except IntegrityError:
            continue  # this occurrence is queued for this endpoint already
        created.append(delivery)
    return created


def _subscribe_catalogue() -> None:
    for public in CATALOGUE.values():
        for source in public.sources:

            def handler(public=public, **kwargs) -> None:
                try:
                    fan_out(public, **kwargs)
                except Exception:  # one bad event must not break the request that emitted it
                    logger.exception("Webhook fan-out of %s failed", public.name)

            subscribe(source)(handler)


_subscribe_catalogue()


@subscribe(DELIVERY_QUEUED)
def _send_when_queued(*, delivery_id: int) -> None:
    from .tasks import deliver_webhook  # tasks import this module

    deliver_webhook.enqueue(delivery_id)


# --- sending ----------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is the receiver's answer, recorded as a failure


_opener = urllib.request.build_opener(_NoRedirects)


def slack_text(delivery_body: dict) -> str:
    """The one line a Slack-style channel shows for an event, with a link to it in the app."""
    public = public_event(delivery_body.get("event", ""))
    data = delivery_body.get("data") or {}
    if public is None:
        return f"OpenCX event {delivery_body.get('event')}"
    line = _escape_slack(public.summary(data))
    link = public.link(delivery_body.get("brand", ""), data)
    return f"{line} <{link}|Open in OpenCX>" if link else line


def _escape_slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def body_for(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> bytes:
    """The exact bytes POSTed for the delivery. Keys are sorted: PostgreSQL's jsonb does not keep
    their order, and the same delivery must give the same bytes (and signature) whether its
    payload was just built or read back, as the delivery log and a replay do."""
    if endpoint.kind == WebhookEndpoint.Kind.SLACK:
        return json.dumps({"text": slack_text(delivery.payload)}, ensure_ascii=False).encode()
    text = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.encode()


def request_for(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> tuple[bytes, dict]:
    """The body and headers of one attempt (signed now, for a signed webhook)."""
    body = body_for(delivery, endpoint)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if endpoint.kind == WebhookEndpoint.Kind.SLACK:
        return body, headers
    headers.update(
        {
            "OpenCX-Event": delivery.event,
            "OpenCX-Delivery": str(delivery.pk),
            HEADER: sign(secret=endpoint.secret, body=body),
        }
    )
    return body, headers


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str, str]:
    """(status code or None, first 2 KB of the answer, error)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_S) as answer:
            return answer.status, _excerpt(answer), ""
    except urllib.error.HTTPError as refusal:
        excerpt = _excerpt(refusal)
        return refusal.code, excerpt, f"HTTP {refusal.code} {refusal.reason}"[:500]
    except NETWORK_ERRORS as error:
        reason = getattr(error, "reason", None) or error
        return None, "", f"{type(error).__name__}: {reason}"[:500]


def _excerpt(answer) -> str:
    try:
        raw = answer.read(MAX_RESPONSE)
    except NETWORK_ERRORS:
        return ""
    return raw.decode("utf-8", "replace")[:MAX_RESPONSE]


def _claim(delivery: WebhookDelivery, now: datetime) -> bool:
    due = Q(status=WebhookDelivery.Status.PENDING) | Q(
        status__in=[WebhookDelivery.Status.FAILED, WebhookDelivery.Status.SENDING],
        next_attempt_at__lte=now,
    )
    claimed = WebhookDelivery.objects.filter(
        due, pk=delivery.pk, attempts=delivery.attempts
    ).update(
        status=WebhookDelivery.Status.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + SENDING_LEASE,
    )
    return claimed == 1


def _explicit(delivery: WebhookDelivery) -> bool:
    """A test event or a replay: asked for by a person, so sent to a disabled endpoint too."""
    return delivery.event == "ping" or delivery.sequence > 0


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> str:
    """Send one attempt of the delivery if it is due and nobody else is sending it; returns
    the delivery's status afterwards ('' if there is no such delivery)."""
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return ""
    if not _claim(delivery, now):
        return WebhookDelivery.objects.get(pk=delivery_id).status
    attempt = delivery.attempts + 1
    endpoint = delivery.endpoint
    mine = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.SENDING, attempts=attempt
    )
    if not endpoint.is_active and not _explicit(delivery):
        mine.update(
            status=WebhookDelivery.Status.GAVE_UP,
            next_attempt_at=None,
            error="The endpoint is disabled.",
        )
        return WebhookDelivery.Status.GAVE_UP
    body, headers = request_for(delivery, endpoint)
    started = time.monotonic()
    code, excerpt, error = _post(endpoint.url, body, headers)
    duration_ms = int((time.monotonic() - started) * 1000)
    finished = timezone.now()
    result = {
        "response_code": code,
        "response_body": excerpt,
        "request_headers": headers,
        "error": error,
        "duration_ms": duration_ms,
    }
    if code is not None and 200 <= code < 300:
        status, next_at = WebhookDelivery.Status.DELIVERED, None
        result.update(delivered_at=finished, error="")
    elif attempt >= MAX_ATTEMPTS:
        status, next_at = WebhookDelivery.Status.GAVE_UP, None
    else:
        status, next_at = WebhookDelivery.Status.FAILED, finished + BACKOFF[attempt - 1]
    mine.update(status=status, next_attempt_at=next_at, **result)
    if status == WebhookDelivery.Status.FAILED:
        _schedule(delivery.pk, next_at)
    return status


def _schedule(delivery_id: int, when: datetime) -> None:
    """Queue the next attempt for `when` where the task backend can defer; otherwise the
    periodic `webhooks_retry` finds it when it is due."""
    from .tasks import deliver_webhook

    if deliver_webhook.get_backend().supports_defer:
        deliver_webhook.using(run_after=when).enqueue(delivery_id)
