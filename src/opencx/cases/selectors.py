"""Reads of the closed loop, always scoped to what the actor may see."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from opencx.contacts.selectors import contact_address
from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.models import Location, Membership, User
from opencx.platform.roles import Role
from opencx.platform.selectors import scope_filter

from .models import Case, CaseEvent, CaseRule, RoutingRule, SlaPolicy


def cases_visible_to(actor: Actor, *, location: Location | None = None) -> QuerySet[Case]:
    """The brand's cases within the actor's reach, narrowed to `location`'s subtree if given."""
    qs = Case.objects.filter(scope_filter(actor))
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    return qs


@dataclass(frozen=True)
class CaseFilters:
    status: str = ""  # a status, "open" (new, acknowledged, in progress) or "" for all
    owner: int | None = None  # a user id; 0 = nobody
    location: Location | None = None
    priority: str = ""
    overdue: bool = False
    root_cause: str = ""
    q: str = ""


def case_list(actor: Actor, *, filters: CaseFilters, now: datetime | None = None) -> QuerySet:
    now = now or timezone.now()
    qs = cases_visible_to(actor, location=filters.location).select_related(
        "location", "owner", "contact"
    )
    if filters.status == "open":
        qs = qs.filter(status__in=Case.OPEN_STATUSES)
    elif filters.status in Case.Status.values:
        qs = qs.filter(status=filters.status)
    if filters.owner == 0:
        qs = qs.filter(owner__isnull=True)
    elif filters.owner is not None:
        qs = qs.filter(owner_id=filters.owner)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.root_cause:
        qs = qs.filter(root_cause=filters.root_cause)
    if filters.overdue:
        qs = qs.filter(status__in=Case.OPEN_STATUSES, due_at__lt=now)
    if filters.q:
        words = filters.q.split()[:8]
        for word in words:
            qs = qs.filter(
                Q(title__icontains=word)
                | Q(contact__name__icontains=word)
                | Q(what_happened__icontains=word)
                | Q(resolution__icontains=word)
            )
    return qs.order_by("-opened_at", "-pk")


def case_get(actor: Actor, *, pk: int) -> Case:
    case = (
        cases_visible_to(actor)
        .select_related(
            "location",
            "owner",
            "contact",
            "rule",
            "survey",
            "touchpoint",
            "escalated_to",
            "resurvey_invitation",
        )
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise NotFound("No such case.")
    return case


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor")


def case_sources(case: Case):
    return case.sources.select_related(
        "response__survey", "response__location", "feedback__location", "rule"
    )


def case_assignees(actor: Actor, *, location: Location) -> QuerySet[User]:
    """Members who may work a case at `location` (the people it can be given to)."""
    paths = location.lineage_paths
    return (
        User.objects.filter(
            is_active=True,
            memberships__brand=actor.brand,
            memberships__role__in=[
                Role.OWNER,
                Role.BRAND_ADMIN,
                Role.CX_MANAGER,
                Role.LOCATION_MANAGER,
            ],
        )
        .filter(Q(memberships__location__isnull=True) | Q(memberships__location__path__in=paths))
        .distinct()
        .order_by("first_name", "email")
    )


def case_owners(actor: Actor) -> QuerySet[User]:
    """Everyone who owns a case the actor can see (for the owner filter)."""
    return (
        User.objects.filter(owned_cases__in=cases_visible_to(actor))
        .distinct()
        .order_by("first_name", "email")
    )


def case_rules_of(actor: Actor) -> QuerySet[CaseRule]:
    return CaseRule.objects.filter(brand=actor.brand).select_related(
        "location", "touchpoint", "survey"
    )


def case_rule_get(actor: Actor, *, pk: int) -> CaseRule:
    rule = case_rules_of(actor).filter(pk=pk).first()
    if rule is None:
        raise NotFound("No such rule.")
    return rule


def routing_rules_of(actor: Actor) -> QuerySet[RoutingRule]:
    return RoutingRule.objects.filter(brand=actor.brand).select_related(
        "location", "touchpoint", "owner"
    )


def routing_rule_get(actor: Actor, *, pk: int) -> RoutingRule:
    route = routing_rules_of(actor).filter(pk=pk).first()
    if route is None:
        raise NotFound("No such routing rule.")
    return route


def sla_policies_of(actor: Actor) -> dict[str, SlaPolicy]:
    return {policy.priority: policy for policy in SlaPolicy.objects.filter(brand=actor.brand)}


def brand_members(actor: Actor) -> QuerySet[User]:
    return (
        User.objects.filter(memberships__brand=actor.brand, is_active=True)
        .distinct()
        .order_by("first_name", "email")
    )


def case_status_counts(actor: Actor, *, location: Location | None = None) -> dict[str, int]:
    rows = (
        cases_visible_to(actor, location=location)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["status"]: row["n"] for row in rows}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def case_payload(*, case_id: int) -> dict | None:
    """A case as JSON-ready data for webhooks and integrations (no actor: a system read, sent
    only to the brand's own endpoints)."""
    case = (
        Case.objects.select_related("brand", "location", "owner", "contact", "rule", "survey")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        return None
    sources = [
        {"response_id": source.response_id}
        if source.response_id
        else {"feedback_id": source.feedback_id}
        for source in case.sources.all()
    ]
    contact = None
    if case.contact is not None:
        contact = {
            "id": case.contact_id,
            "name": case.contact.name,
            "email": contact_address(case.contact) or None,
        }
    return {
        "id": case.pk,
        "title": case.title,
        "status": case.status,
        "priority": case.priority,
        "location": {
            "id": case.location_id,
            "code": case.location.code,
            "name": case.location.name,
        },
        "owner": {"id": case.owner_id, "email": case.owner.email} if case.owner else None,
        "contact": contact,
        "rule": case.rule.name if case.rule else None,
        "trigger_score": case.trigger_score,
        "survey": case.survey.slug if case.survey else None,
        "opened_at": _iso(case.opened_at),
        "acknowledged_at": _iso(case.acknowledged_at),
        "in_progress_at": _iso(case.in_progress_at),
        "resolved_at": _iso(case.resolved_at),
        "closed_at": _iso(case.closed_at),
        "acknowledge_due_at": _iso(case.acknowledge_due_at),
        "due_at": _iso(case.due_at),
        "escalated_at": _iso(case.escalated_at),
        "root_cause": case.root_cause or None,
        "resolution": case.resolution or None,
        "resurvey_score": case.resurvey_score,
        "recovered": case.recovered,
        "sources": sources,
        "updated_at": _iso(case.updated_at),
    }


def case_watchers(case: Case) -> list[User]:
    """Who hears about a case: its owner, and whoever it was escalated to."""
    people = [user for user in (case.owner, case.escalated_to) if user is not None]
    return list(dict.fromkeys(people))


def location_managers(location: Location) -> QuerySet[Membership]:
    return Membership.objects.filter(
        brand_id=location.brand_id, role=Role.LOCATION_MANAGER, location=location
    )
