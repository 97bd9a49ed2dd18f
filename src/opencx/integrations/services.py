"""Writes of integrations: webhook endpoints, replays and test events, notification choices.

A delivery row is written here; sending it is `flows.webhook_deliver`, run by the
`deliver_webhook` task that `webhook.delivery_queued` enqueues once the transaction commits.
"""

import secrets
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, Conflict
from opencx.platform.events import emit
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record

from .catalogue import CATALOGUE, PING
from .models import NotificationPreference, WebhookDelivery, WebhookEndpoint

DELIVERY_QUEUED = "webhook.delivery_queued"
SECRET_PREFIX = "whsec_"
MAX_URL = 2000
MAX_NAME = 120
# A delivery claimed for sending but not finished after this long (a worker died) is due again.
SENDING_LEASE = timedelta(minutes=5)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def clean_url(url: str) -> str:
    """The endpoint URL, stripped; AppError (field `url`) unless it is an http(s) URL with a
    host and no user name or password."""
    url = (url or "").strip()
    if not url:
        raise AppError("Give the URL to send events to.", field="url")
    if len(url) > MAX_URL:
        raise AppError(f"The URL is longer than {MAX_URL} characters.", field="url")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise AppError("The URL may not contain spaces or control characters.", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise AppError(f"The URL is not valid: {error}.", field="url") from error
    if parts.scheme.lower() not in {"http", "https"}:
        raise AppError("The URL must start with https:// (or http://).", field="url")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise AppError(
            "Put no user name or password in the URL: receivers check the signature instead.",
            field="url",
        )
    if not parts.hostname:
        raise AppError("The URL needs a host name.", field="url")
    if port == 0:
        raise AppError("The URL's port is not valid.", field="url")
    return url


def clean_events(events) -> list[str]:
    """Known public event names, each once, in catalogue order; [] means every event."""
    if events is None:
        return []
    if isinstance(events, str) or not isinstance(events, list | tuple | set):
        raise AppError("events is a list of event names.", field="events")
    unknown = [name for name in events if name not in CATALOGUE]
    if unknown:
        raise AppError(
            f"Unknown event {unknown[0]!r}: choose from {', '.join(CATALOGUE)}.", field="events"
        )
    return [name for name in CATALOGUE if name in events]


def _clean_name(name: str, url: str) -> str:
    name = (name or "").strip()
    if len(name) > MAX_NAME:
        raise AppError(f"The name is longer than {MAX_NAME} characters.", field="name")
    return name or (urlsplit(url).hostname or "Webhook")[:MAX_NAME]


def _clean_kind(kind: str) -> str:
    if kind not in WebhookEndpoint.Kind.values:
        raise AppError(f"kind is one of {', '.join(WebhookEndpoint.Kind.values)}.", field="kind")
    return kind


def webhook_endpoint_create(
    *,
    actor: Actor,
    url: str,
    name: str = "",
    kind: str = WebhookEndpoint.Kind.WEBHOOK,
    events: list[str] | None = None,
    is_active: bool = True,
) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret (show it to the user once)."""
    actor.require(Capability.MANAGE_BRAND)
    url = clean_url(url)
    endpoint = WebhookEndpoint(
        brand=actor.brand,
        name=_clean_name(name, url),
        url=url,
        kind=_clean_kind(kind),
        events=clean_events(events),
        is_active=bool(is_active),
        secret=new_secret(),
        created_by=actor.user,
    )
    with transaction.atomic():
        endpoint.save()
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="webhook.create",
            obj=endpoint,
            summary=f"Webhook “{endpoint.name}” → {endpoint.url}",
        )
    return endpoint


def webhook_endpoint_update(
    *,
    actor: Actor,
    endpoint: WebhookEndpoint,
    name: str | None = None,
    url: str | None = None,
    kind: str | None = None,
    events: list[str] | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change the fields given (None leaves a field as it is); the secret stays."""
    actor.require(Capability.MANAGE_BRAND)
    new = {}
    if url is not None:
        new["url"] = clean_url(url)
    if name is not None:
        new["name"] = _clean_name(name, new.get("url", endpoint.url))
    if kind is not None:
        new["kind"] = _clean_kind(kind)
    if events is not None:
        new["events"] = clean_events(events)
    if is_active is not None:
        new["is_active"] = bool(is_active)
    changes = {
        field: [getattr(endpoint, field), value]
        for field, value in new.items()
        if getattr(endpoint, field) != value
    }
    if not changes:
        return endpoint
    with transaction.atomic():
        for field, value in new.items():
            setattr(endpoint, field, value)
        endpoint.save(update_fields=list(new))
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="webhook.update",
            obj=endpoint,
            summary=f"Webhook “{endpoint.name}” changed",
            changes=changes,
        )
    return endpoint


def webhook_endpoint_delete(*, actor: Actor, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log."""
    actor.require(Capability.MANAGE_BRAND)
    with transaction.atomic():
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="webhook.delete",
            obj=endpoint,
            summary=f"Webhook “{endpoint.name}” → {endpoint.url} deleted",
        )
        endpoint.delete()


def webhook_endpoint_rotate_secret(*, actor: Actor, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, in force at once for every later attempt; returns it."""
    actor.require(Capability.MANAGE_BRAND)
    with transaction.atomic():
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret"])
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="webhook.rotate_secret",
            obj=endpoint,
            summary=f"Signing secret of webhook “{endpoint.name}” rotated",
        )
    return endpoint.secret


def envelope(*, event: str, event_id: str, brand_slug: str, data: dict, at: datetime) -> dict:
    """The JSON body every webhook receives."""
    return {
        "id": event_id,
        "event": event,
        "created_at": at.isoformat(),
        "brand": brand_slug,
        "data": data,
    }


def webhook_endpoint_ping(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `ping` test event to the endpoint (sent even if the endpoint is disabled)."""
    actor.require(Capability.MANAGE_BRAND)
    now = timezone.now()
    event_id = str(uuid.uuid4())
    data = {"message": "Test event from OpenCX.", "endpoint_id": endpoint.pk}
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            brand=actor.brand,
            endpoint=endpoint,
            event=PING,
            event_id=event_id,
            payload=envelope(
                event=PING, event_id=event_id, brand_slug=actor.brand.slug, data=data, at=now
            ),
            next_attempt_at=now,
            created_at=now,
        )
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="webhook.ping",
            obj=endpoint,
            summary=f"Test event sent to webhook “{endpoint.name}”",
        )
        emit(DELIVERY_QUEUED, delivery_id=delivery.pk)
    return delivery


def webhook_delivery_replay(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again as a new one: same event id and body, `replay_of` the original."""
    actor.require(Capability.MANAGE_BRAND)
    original = delivery.replay_of or delivery
    now = timezone.now()
    try:
        with transaction.atomic():
            last = WebhookDelivery.objects.filter(
                endpoint_id=delivery.endpoint_id, event_id=delivery.event_id
            ).aggregate(last=Max("sequence"))["last"]
            replay = WebhookDelivery.objects.create(
                brand_id=delivery.brand_id,
                endpoint_id=delivery.endpoint_id,
                event=delivery.event,
                event_id=delivery.event_id,
                sequence=(last or 0) + 1,
                payload=delivery.payload,
                next_attempt_at=now,
                created_at=now,
                replay_of=original,
            )
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="webhook.replay",
                obj=replay,
                summary=f"Delivery {delivery.pk} ({delivery.event}) replayed",
            )
            emit(DELIVERY_QUEUED, delivery_id=replay.pk)
    except IntegrityError as error:
        raise Conflict("This delivery is being replayed already; try again.") from error
    return replay


def webhook_deliveries_retry_due(*, now: datetime | None = None) -> int:
    """Queue every delivery that is due: pending or failed with its next attempt due, or
    claimed by a worker that never finished. Safe to run at any time (the send claims each
    attempt); how many were queued."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        Q(
            status__in=[
                WebhookDelivery.Status.PENDING,
                WebhookDelivery.Status.FAILED,
                WebhookDelivery.Status.SENDING,
            ]
        ),
        next_attempt_at__lte=now,
    ).values_list("pk", flat=True)
    ids = list(due[:1000])
    for delivery_id in ids:
        emit(DELIVERY_QUEUED, delivery_id=delivery_id)
    return len(ids)


# --- notification preferences -----------------------------------------------------------------

PREFERENCE_FIELDS = (
    "email_case_assigned",
    "email_case_escalated",
    "email_case_overdue",
    "email_alerts",
    "digest",
)


def notification_preference_update(*, actor: Actor, **fields) -> NotificationPreference:
    """Save the caller's own notification choices in the actor's brand (fields not given keep
    their value). Any member may; nobody changes someone else's."""
    unknown = set(fields) - set(PREFERENCE_FIELDS)
    if unknown:
        raise AppError(f"Unknown preference {sorted(unknown)[0]!r}.", field=sorted(unknown)[0])
    digest = fields.get("digest")
    if digest is not None and digest not in NotificationPreference.Digest.values:
        raise AppError(
            f"digest is one of {', '.join(NotificationPreference.Digest.values)}.",
            field="digest",
        )
    for name, value in fields.items():
        if name != "digest" and value is not None and not isinstance(value, bool):
            raise AppError(f"{name} is true or false.", field=name)
    with transaction.atomic():
        preference, _ = NotificationPreference.objects.select_for_update().get_or_create(
            user=actor.user, brand=actor.brand
        )
        changes = {}
        for name, value in fields.items():
            if value is not None and getattr(preference, name) != value:
                changes[name] = [getattr(preference, name), value]
                setattr(preference, name, value)
        if changes:
            preference.updated_at = timezone.now()
            preference.save()
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="notifications.update",
                obj=preference,
                summary="Notification preferences changed",
                changes=changes,
            )
    return preference
