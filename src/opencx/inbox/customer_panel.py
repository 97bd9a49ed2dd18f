"""The customer beside a conversation: who they are on every channel, what they told us in
surveys (and their NPS), what they bought, their cases and other conversations.

Each part is read through its own app's actor-scoped selector, so an agent of one store sees
only that store's orders, responses and cases of the customer.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

from opencx.cases.selectors import cases_visible_to
from opencx.contacts.models import Contact
from opencx.contacts.selectors import (
    OrderSummary,
    contact_order_summary,
    contacts_matching,
)
from opencx.platform.actor import Actor
from opencx.surveys.models import Survey
from opencx.surveys.selectors import NPS_BANDS, responses_visible_to

from .models import Conversation
from .selectors import conversations_visible_to

RECENT = 5
MAX_RESPONSES = 200
MERGE_CANDIDATES = 10


def nps_band(score: int | None) -> str:
    """promoter, passive or detractor for a 0–10 answer; '' without one."""
    if score is None:
        return ""
    for band, (low, high) in NPS_BANDS.items():
        if low <= score <= high:
            return band
    return ""


@dataclass(frozen=True)
class CustomerNps:
    """The customer's own NPS answers: the latest, and over all of them the share of promoter
    minus detractor answers (shown with n: one person's score is thin)."""

    n: int = 0
    latest_score: int | None = None
    latest_band: str = ""
    latest_at: datetime | None = None
    score: int | None = None  # -100..100 over the n answers


@dataclass(frozen=True)
class CustomerPanel:
    contact: Contact
    responses: list = field(default_factory=list)  # latest survey responses, any kind
    nps: CustomerNps = CustomerNps()
    orders: OrderSummary | None = None
    open_cases: list = field(default_factory=list)
    recent_cases: list = field(default_factory=list)  # resolved or closed, newest first
    other_conversations: list = field(default_factory=list)


def _nps(responses: list) -> CustomerNps:
    """Over the customer's answers to NPS surveys among `responses` (newest first)."""
    answers = [
        (r.score, r.created_at)
        for r in responses
        if r.survey.kind == Survey.Kind.NPS and r.score is not None
    ]
    if not answers:
        return CustomerNps()
    bands = [nps_band(score) for score, _ in answers]
    promoters, detractors = bands.count("promoter"), bands.count("detractor")
    latest_score, latest_at = answers[0]
    return CustomerNps(
        n=len(answers),
        latest_score=latest_score,
        latest_band=bands[0],
        latest_at=latest_at,
        score=round(100 * (promoters - detractors) / len(answers)),
    )


def customer_panel(actor: Actor, *, conversation: Conversation) -> CustomerPanel | None:
    """What the side panel shows of the conversation's customer (None: no customer)."""
    contact = conversation.contact
    if contact is None:
        return None
    cases = list(
        cases_visible_to(actor).filter(contact=contact).order_by("-opened_at", "-pk")[: 4 * RECENT]
    )
    # One read of their responses serves the list and their NPS (at most MAX_RESPONSES).
    responses = list(
        responses_visible_to(actor)
        .filter(contact=contact)
        .select_related("survey")
        .order_by("-created_at", "-pk")[:MAX_RESPONSES]
    )
    return CustomerPanel(
        contact=contact,
        responses=responses[:RECENT],
        nps=_nps(responses),
        orders=contact_order_summary(actor, contact=contact),
        open_cases=[case for case in cases if case.is_open][:RECENT],
        recent_cases=[case for case in cases if not case.is_open][:RECENT],
        other_conversations=list(
            conversations_visible_to(actor)
            .filter(contact=contact)
            .exclude(pk=conversation.pk)
            .select_related("channel")
            .order_by("-created_at", "-pk")[:RECENT]
        ),
    )


def merge_candidates(actor: Actor, *, conversation: Conversation, q: str) -> QuerySet[Contact]:
    """Customers the actor may see matching `q` (name, e-mail, phone, handle), other than the
    conversation's own: whom "this is the same customer as…" offers."""
    q = (q or "").strip()[:200]
    if len(q) < 2:
        return Contact.objects.none()
    qs = contacts_matching(actor, q=q)
    if conversation.contact_id is not None:
        qs = qs.exclude(pk=conversation.contact_id)
    return qs.prefetch_related("identities")[:MERGE_CANDIDATES]
