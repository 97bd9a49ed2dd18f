"""Reads of contacts and their identities, always scoped to an actor."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    Count,
    Exists,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from opencx.feedback.selectors import feedback_visible_to
from opencx.inbox.selectors import conversations_visible_to
from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.models import Location
from opencx.platform.selectors import scope_filter
from opencx.surveys.selectors import responses_visible_to

from .models import Contact, Identity, Order

# --- Customer pages ---

# Consent filter of the customer list: key -> (label, condition).
CONSENT_FILTERS = {
    "email": ("E-mail allowed", Q(consent_email=True)),
    "sms": ("SMS allowed", Q(consent_sms=True)),
    "marketing": ("Marketing allowed", Q(consent_marketing=True)),
    "none": ("No consent", Q(consent_email=False, consent_sms=False, consent_marketing=False)),
}
TIMELINE_LIMIT = 200


def contacts_visible_to(actor: Actor) -> QuerySet[Contact]:
    """Brand-wide members see every contact of the brand; location-scoped members see contacts
    whose home location is in their subtree (contacts without one are brand-level)."""
    return Contact.objects.filter(scope_filter(actor, "home_location"))


def orders_visible_to(actor: Actor, *, location: Location | None = None) -> QuerySet[Order]:
    """Orders placed at locations the actor may see, narrowed to `location`'s subtree if given."""
    qs = Order.objects.filter(scope_filter(actor))
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    return qs


def _latest(qs: QuerySet, field: str) -> Subquery:
    return Subquery(qs.filter(contact=OuterRef("pk")).order_by(f"-{field}").values(field)[:1])


def contact_list(
    actor: Actor,
    *,
    location: Location | None = None,
    q: str = "",
    country: str = "",
    consent: str = "",
) -> QuerySet[Contact]:
    """The customer list: search, filters, and per-row figures in one query (+1 for identities).

    Rows carry `orders_count` and the latest order/response/feedback/conversation times;
    `last_activity(contact)` picks the newest. Order and activity counts are scoped too.
    """
    qs = contacts_matching(actor, q=q)
    if location is not None:
        qs = qs.filter(home_location__path__startswith=location.path)
    if country:
        qs = qs.filter(country=country.upper())
    if consent in CONSENT_FILTERS:
        qs = qs.filter(CONSENT_FILTERS[consent][1])
    orders = orders_visible_to(actor)
    order_count = (
        orders.filter(contact=OuterRef("pk")).values("contact").annotate(n=Count("pk")).values("n")
    )
    return qs.annotate(
        orders_count=Coalesce(Subquery(order_count), Value(0)),
        last_order_at=_latest(orders, "placed_at"),
        last_response_at=_latest(responses_visible_to(actor), "created_at"),
        last_feedback_at=_latest(feedback_visible_to(actor), "occurred_at"),
        last_conversation_at=_latest(conversations_visible_to(actor), "created_at"),
    ).prefetch_related(
        Prefetch(
            "identities",
            queryset=Identity.objects.order_by("-is_primary", "kind", "value"),
            to_attr="ordered_identities",
        )
    )


def last_activity(contact: Contact) -> datetime | None:
    """The newest of the activity times `contact_list` annotates (None: nothing yet)."""
    names = ("last_order_at", "last_response_at", "last_feedback_at", "last_conversation_at")
    times = [t for t in (getattr(contact, name, None) for name in names) if t is not None]
    return max(times) if times else None


def contact_countries(actor: Actor) -> list[str]:
    """Countries of the contacts the actor sees, for the list's filter."""
    return list(
        contacts_visible_to(actor)
        .exclude(country="")
        .order_by("country")
        .values_list("country", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class OrderSummary:
    count: int
    first_at: datetime | None
    last_at: datetime | None
    totals: list[tuple[str, Decimal]]  # (currency, amount), one per currency


def contact_order_summary(actor: Actor, *, contact: Contact) -> OrderSummary:
    orders = orders_visible_to(actor).filter(contact=contact)
    facts = orders.aggregate(count=Count("pk"), first_at=Min("placed_at"), last_at=Max("placed_at"))
    totals = orders.values("currency").annotate(amount=Sum("total")).order_by("currency")
    return OrderSummary(
        count=facts["count"],
        first_at=facts["first_at"],
        last_at=facts["last_at"],
        totals=[(row["currency"], row["amount"]) for row in totals],
    )


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # order, response, feedback, conversation
    at: datetime
    item: object


def contact_timeline(
    actor: Actor, *, contact: Contact, limit: int = TIMELINE_LIMIT
) -> list[TimelineEntry]:
    """Everything the contact did that the actor may see, newest first, at most `limit` entries.

    Four queries (one per source), each capped at `limit`, merged in Python.
    """
    sources = [
        (
            "order",
            "placed_at",
            orders_visible_to(actor).filter(contact=contact).select_related("location"),
        ),
        (
            "response",
            "created_at",
            responses_visible_to(actor)
            .filter(contact=contact)
            .select_related("survey", "location"),
        ),
        (
            "feedback",
            "occurred_at",
            feedback_visible_to(actor).filter(contact=contact).select_related("location"),
        ),
        (
            "conversation",
            "created_at",
            conversations_visible_to(actor)
            .filter(contact=contact)
            .select_related("channel", "location"),
        ),
    ]
    entries = [
        TimelineEntry(kind=kind, at=getattr(item, field), item=item)
        for kind, field, qs in sources
        for item in qs.order_by(f"-{field}", "-pk")[:limit]
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


# --- API selectors ---


def contacts_matching(actor: Actor, *, q: str = "") -> QuerySet[Contact]:
    """Contacts the actor may see (by home location; none: brand-wide members only), by name.

    `q` matches the name or any identity value (e-mail, phone, handle), case-insensitively.
    """
    qs = Contact.objects.filter(scope_filter(actor, "home_location"))
    q = q.strip()
    if q:
        identity_hit = Identity.objects.filter(
            contact=OuterRef("pk"), brand=actor.brand, value__icontains=q
        )
        qs = qs.filter(Q(name__icontains=q) | Exists(identity_hit))
    return qs.select_related("home_location").order_by("name", "pk")


def contact_with_identities(actor: Actor, *, pk: int) -> Contact:
    """One contact with identities prefetched; another brand's or outside the subtree is 404."""
    contact = (
        Contact.objects.filter(scope_filter(actor, "home_location"), pk=pk)
        .select_related("home_location")
        .prefetch_related(
            Prefetch(
                "identities", queryset=Identity.objects.order_by("-is_primary", "kind", "value")
            )
        )
        .first()
    )
    if contact is None:
        raise NotFound("No such contact.", field="contact")
    return contact


def contact_address(contact: Contact, kind: str = Identity.Kind.EMAIL) -> str:
    """The contact's primary address of a kind (an e-mail address by default), or ''."""
    identity = contact.identities.filter(kind=kind).order_by("-is_primary", "pk").first()
    return identity.value if identity is not None else ""
