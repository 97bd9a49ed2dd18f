"""Reads of integrations. Webhook endpoints and deliveries are brand-level rows: only members
with brand-wide reach see them (others get 404); pages and the API then require MANAGE_BRAND."""

from django.db.models import QuerySet

from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, NotFound
from opencx.platform.models import Brand, Membership, User

from .models import NotificationPreference, WebhookDelivery, WebhookEndpoint

NOTIFICATION_KINDS = {
    "case_assigned": "email_case_assigned",
    "case_escalated": "email_case_escalated",
    "case_overdue": "email_case_overdue",
    "alerts": "email_alerts",
}


def webhook_endpoints_visible_to(actor: Actor) -> QuerySet[WebhookEndpoint]:
    if not actor.is_brand_wide:
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(brand=actor.brand)


def webhook_endpoint_get(actor: Actor, *, pk: int) -> WebhookEndpoint:
    endpoint = webhook_endpoints_visible_to(actor).filter(pk=pk).first()
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {pk}.", field="endpoint")
    return endpoint


def webhook_deliveries_visible_to(
    actor: Actor,
    *,
    endpoint: WebhookEndpoint | None = None,
    status: str = "",
    event: str = "",
) -> QuerySet[WebhookDelivery]:
    """Deliveries newest first, optionally of one endpoint, status or event."""
    if not actor.is_brand_wide:
        return WebhookDelivery.objects.none()
    if status and status not in WebhookDelivery.Status.values:
        raise AppError(
            f"status is one of {', '.join(WebhookDelivery.Status.values)}.", field="status"
        )
    deliveries = WebhookDelivery.objects.filter(brand=actor.brand).select_related("endpoint")
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    if status:
        deliveries = deliveries.filter(status=status)
    if event:
        deliveries = deliveries.filter(event=event)
    return deliveries.order_by("-created_at", "-pk")


def webhook_delivery_get(actor: Actor, *, pk: int) -> WebhookDelivery:
    delivery = webhook_deliveries_visible_to(actor).filter(pk=pk).first()
    if delivery is None:
        raise NotFound(f"No webhook delivery {pk}.", field="delivery")
    return delivery


# --- notification preferences -----------------------------------------------------------------


def notification_preference_of(*, user: User, brand: Brand) -> NotificationPreference:
    """The member's preferences in the brand; an unsaved row with the defaults if none."""
    found = NotificationPreference.objects.filter(user=user, brand=brand).first()
    return found or NotificationPreference(user=user, brand=brand)


def notification_wanted(*, user: User, brand: Brand, kind: str) -> bool:
    """Whether `user` wants the e-mail `kind` (case_assigned, case_escalated, case_overdue,
    alerts) about `brand`. False for someone who is no longer a member."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    if not user.is_active or not Membership.objects.filter(user=user, brand=brand).exists():
        return False
    return getattr(notification_preference_of(user=user, brand=brand), NOTIFICATION_KINDS[kind])


def digest_recipients(*, brand: Brand, frequency: str) -> list[User]:
    """Active members of `brand` who want the digest `frequency` (daily or weekly)."""
    if frequency not in {NotificationPreference.Digest.DAILY, NotificationPreference.Digest.WEEKLY}:
        raise ValueError(f"Unknown digest frequency {frequency!r}.")
    chosen = dict(
        NotificationPreference.objects.filter(brand=brand).values_list("user_id", "digest")
    )
    default = NotificationPreference._meta.get_field("digest").default
    members = User.objects.filter(memberships__brand=brand, is_active=True).distinct()
    return [user for user in members.order_by("email") if chosen.get(user.pk, default) == frequency]
