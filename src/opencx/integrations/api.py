"""API routes for webhooks (endpoints, deliveries, the event catalogue) and "my notifications".

Webhook routes need brand-wide reach (404 otherwise) and MANAGE_BRAND (403 otherwise).
"""

from ninja import Router, Status

from opencx.api.errors import READ_ERRORS, WRITE_ERRORS
from opencx.api.pagination import LimitOffset, paginate
from opencx.platform.api import actor_of
from opencx.platform.errors import AppError
from opencx.platform.roles import Capability

from . import selectors, services
from .catalogue import CATALOGUE, PING, PING_EVENT
from .models import WebhookDelivery
from .schemas import (
    DeliveryOut,
    EventOut,
    NotificationsIn,
    NotificationsOut,
    SecretOut,
    WebhookCreate,
    WebhookCreatedOut,
    WebhookOut,
    WebhookPatch,
)

router = Router(tags=["webhooks"])


def _manager(request, slug):
    actor = actor_of(request, slug)
    actor.require(Capability.MANAGE_BRAND)
    return actor


def _endpoint(request, slug, endpoint_id):
    actor = actor_of(request, slug)
    endpoint = selectors.webhook_endpoint_get(actor, pk=endpoint_id)
    actor.require(Capability.MANAGE_BRAND)
    return actor, endpoint


@router.get("/brands/{slug}/webhook-events", response={200: list[EventOut], **READ_ERRORS})
def webhook_event_list(request, slug: str):
    """The public events an endpoint may subscribe to (and `ping`, the test event)."""
    actor_of(request, slug)
    events = [{"name": n, "description": e.description} for n, e in CATALOGUE.items()]
    return [*events, {"name": PING, "description": PING_EVENT.description}]


@router.get("/brands/{slug}/webhooks", response={200: list[WebhookOut], **READ_ERRORS})
@paginate(LimitOffset)
def webhook_list(request, slug: str):
    """The brand's webhook endpoints (secrets are not listed)."""
    return selectors.webhook_endpoints_visible_to(_manager(request, slug))


@router.post("/brands/{slug}/webhooks", response={201: WebhookCreatedOut, **WRITE_ERRORS})
def webhook_create(request, slug: str, payload: WebhookCreate):
    """Add an endpoint. The answer carries the signing secret: keep it, it is not shown again.
    A bad URL (not http/https, a user name or password in it, no host) is a 400 on `url`."""
    actor = _manager(request, slug)
    return Status(201, services.webhook_endpoint_create(actor=actor, **payload.dict()))


@router.get("/brands/{slug}/webhooks/{endpoint_id}", response={200: WebhookOut, **READ_ERRORS})
def webhook_get(request, slug: str, endpoint_id: int):
    return _endpoint(request, slug, endpoint_id)[1]


@router.patch("/brands/{slug}/webhooks/{endpoint_id}", response={200: WebhookOut, **WRITE_ERRORS})
def webhook_update(request, slug: str, endpoint_id: int, payload: WebhookPatch):
    """Change the fields given; `is_active: false` disables the endpoint."""
    actor, endpoint = _endpoint(request, slug, endpoint_id)
    return services.webhook_endpoint_update(
        actor=actor, endpoint=endpoint, **payload.dict(exclude_unset=True)
    )


@router.delete("/brands/{slug}/webhooks/{endpoint_id}", response={204: None, **WRITE_ERRORS})
def webhook_delete(request, slug: str, endpoint_id: int):
    """Delete the endpoint and its delivery log."""
    actor, endpoint = _endpoint(request, slug, endpoint_id)
    services.webhook_endpoint_delete(actor=actor, endpoint=endpoint)
    return Status(204, None)


@router.post(
    "/brands/{slug}/webhooks/{endpoint_id}/rotate-secret",
    response={200: SecretOut, **WRITE_ERRORS},
)
def webhook_rotate_secret(request, slug: str, endpoint_id: int):
    """A new signing secret, in force at once; the old one stops working."""
    actor, endpoint = _endpoint(request, slug, endpoint_id)
    return {"secret": services.webhook_endpoint_rotate_secret(actor=actor, endpoint=endpoint)}


@router.post(
    "/brands/{slug}/webhooks/{endpoint_id}/test", response={202: DeliveryOut, **WRITE_ERRORS}
)
def webhook_test(request, slug: str, endpoint_id: int):
    """Queue a `ping` event to the endpoint; follow the delivery to see how it went."""
    actor, endpoint = _endpoint(request, slug, endpoint_id)
    return Status(202, services.webhook_endpoint_ping(actor=actor, endpoint=endpoint))


@router.get("/brands/{slug}/webhook-deliveries", response={200: list[DeliveryOut], **READ_ERRORS})
@paginate(LimitOffset)
def delivery_list(
    request, slug: str, endpoint: int | None = None, status: str = "", event: str = ""
):
    """Deliveries newest first; filter by `endpoint` (id), `status` (pending, sending,
    delivered, failed, gave_up) and `event`."""
    actor = _manager(request, slug)
    chosen = selectors.webhook_endpoint_get(actor, pk=endpoint) if endpoint is not None else None
    if status and status not in WebhookDelivery.Status.values:
        raise AppError(
            f"status is one of {', '.join(WebhookDelivery.Status.values)}.", field="status"
        )
    return selectors.webhook_deliveries_visible_to(
        actor, endpoint=chosen, status=status, event=event
    )


@router.get(
    "/brands/{slug}/webhook-deliveries/{delivery_id}", response={200: DeliveryOut, **READ_ERRORS}
)
def delivery_get(request, slug: str, delivery_id: int):
    actor = actor_of(request, slug)
    delivery = selectors.webhook_delivery_get(actor, pk=delivery_id)
    actor.require(Capability.MANAGE_BRAND)
    return delivery


@router.post(
    "/brands/{slug}/webhook-deliveries/{delivery_id}/replay",
    response={202: DeliveryOut, **WRITE_ERRORS},
)
def delivery_replay(request, slug: str, delivery_id: int):
    """Send the delivery again as a new delivery: same `event_id` and body, `replay_of_id`
    set. Receivers that dedupe on the event id will ignore it, which is usually right."""
    actor = actor_of(request, slug)
    delivery = selectors.webhook_delivery_get(actor, pk=delivery_id)
    actor.require(Capability.MANAGE_BRAND)
    return Status(202, services.webhook_delivery_replay(actor=actor, delivery=delivery))


# --- the caller's own notification choices ----------------------------------------------------


@router.get(
    "/brands/{slug}/me/notifications",
    response={200: NotificationsOut, **READ_ERRORS},
    tags=["me"],
)
def my_notifications_get(request, slug: str):
    """What the brand e-mails the caller about (the defaults until they choose)."""
    actor = actor_of(request, slug)
    return selectors.notification_preference_of(user=actor.user, brand=actor.brand)


@router.put(
    "/brands/{slug}/me/notifications",
    response={200: NotificationsOut, **WRITE_ERRORS},
    tags=["me"],
)
def my_notifications_put(request, slug: str, payload: NotificationsIn):
    """Save the caller's own choices; fields left out keep their value. Any member may."""
    actor = actor_of(request, slug)
    return services.notification_preference_update(actor=actor, **payload.dict(exclude_unset=True))
