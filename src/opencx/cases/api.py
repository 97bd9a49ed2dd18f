"""API routes for cases, the rules that open them, routing rules, SLA policies and the
closed-loop report.

Writes check the caller's capability before the body is validated (`api.auth.requiring`): a
viewer gets 403 whatever they send, as a non-member gets 404.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from ninja import Router, Status

from opencx.api import auth as api_auth
from opencx.api.errors import READ_ERRORS, WRITE_ERRORS
from opencx.api.pagination import LimitOffset, paginate
from opencx.contacts.selectors import contacts_visible_to
from opencx.platform.api import actor_of
from opencx.platform.errors import AppError, NotFound
from opencx.platform.roles import Capability
from opencx.platform.selectors import location_get, touchpoint_get
from opencx.surveys.selectors import response_get, survey_get

from . import report_selectors, selectors, services
from .models import Case, Priority
from .schemas import (
    CaseAssign,
    CaseCreate,
    CaseDetailOut,
    CaseEventOut,
    CaseNote,
    CaseOut,
    CasePriority,
    CaseReply,
    CaseReportOut,
    CaseRootCause,
    CaseRuleCreate,
    CaseRuleOut,
    CaseRulePatch,
    CaseTransition,
    RoutingRuleCreate,
    RoutingRuleOut,
    SlaPolicyIn,
    SlaPolicyOut,
)

router = Router(tags=["cases"])
REPORT_DAYS = 90


# Writes check the capability before the body is validated (403 whatever is sent).
WORK = api_auth.requiring(Capability.REPLY)
CONFIGURE = api_auth.requiring(Capability.MANAGE_FEEDBACK)


# --- Lookups (each within the actor's reach; the error names the body field) -------------------


def _location(actor, pk: int, field: str = "location_id"):
    try:
        return location_get(actor, pk=pk)
    except NotFound:
        raise NotFound("No such location.", field=field) from None


def _touchpoint(actor, pk: int):
    try:
        return touchpoint_get(actor, pk=pk)
    except NotFound:
        raise NotFound("No such touchpoint.", field="touchpoint_id") from None


def _survey(actor, pk: int):
    try:
        return survey_get(actor, pk=pk)
    except NotFound:
        raise NotFound("No such survey.", field="survey_id") from None


def _member(actor, pk: int):
    person = selectors.brand_members(actor).filter(pk=pk).first()
    if person is None:
        raise NotFound("No such member of this brand.", field="owner_id")
    return person


def _detail(actor, case_id: int) -> Case:
    """The case with its timeline (its `sources` are read by the schema)."""
    case = selectors.case_get(actor, pk=case_id)
    case.timeline = list(selectors.case_timeline(case))
    return case


# --- Cases ------------------------------------------------------------------------------------


@router.get("/brands/{slug}/cases", response={200: list[CaseOut], **READ_ERRORS})
@paginate(LimitOffset)
def case_list(
    request,
    slug: str,
    status: str = "",
    owner_id: int | None = None,
    unassigned: bool = False,
    location: int | None = None,
    priority: str = "",
    overdue: bool = False,
    root_cause: str = "",
    q: str = "",
):
    """Cases in the caller's reach, newest first. `status` is one status, `open` (new,
    acknowledged or in progress) or empty for all; `unassigned` keeps cases without an owner;
    `location` keeps its subtree (404 if out of reach); `overdue` keeps open cases past their
    due date; `q` searches the title, the customer's name, what happened and the resolution."""
    actor = actor_of(request, slug)
    if status and status != "open" and status not in Case.Status.values:
        raise AppError("status is open or one of " + ", ".join(Case.Status.values), field="status")
    if priority and priority not in Priority.values:
        raise AppError("Unknown priority.", field="priority")
    if root_cause and root_cause not in Case.RootCause.values:
        raise AppError("Unknown root cause.", field="root_cause")
    filters = selectors.CaseFilters(
        status=status,
        owner=0 if unassigned else owner_id,
        location=_location(actor, location, "location") if location is not None else None,
        priority=priority,
        overdue=overdue,
        root_cause=root_cause,
        q=q.strip()[:200],
    )
    return selectors.case_list(actor, filters=filters)


@router.get("/brands/{slug}/cases/report", response={200: CaseReportOut, **READ_ERRORS})
def case_report(
    request,
    slug: str,
    since: datetime | None = None,
    until: datetime | None = None,
    location: int | None = None,
):
    """The closed-loop figures for cases opened in [since, until) (default: the last 90 days;
    a time without an offset is in the brand's time zone): open and overdue now by location
    and owner, time to acknowledge and to resolve (Kaplan–Meier, calendar and business hours),
    the recovery rate of answered re-surveys with its Wilson interval, root causes and the
    playbook outcomes of the same period."""
    actor = actor_of(request, slug)
    zone = ZoneInfo(actor.brand.timezone or "UTC")
    until = _aware(until, zone) or timezone.now()
    since = _aware(since, zone) or until - timedelta(days=REPORT_DAYS)
    if since >= until:
        raise AppError("since must be before until.", field="since")
    place = _location(actor, location, "location") if location is not None else None
    report = report_selectors.closed_loop_report(actor, since=since, until=until, location=place)
    outcomes = report_selectors.playbook_outcomes(actor, since=since, until=until, location=place)
    return {
        "since": since,
        "until": until,
        "opened": report.opened,
        "open_now": report.open_now,
        "overdue_now": report.overdue_now,
        "by_location": [_load(row) for row in report.by_location],
        "by_owner": [_load(row) for row in report.by_owner],
        "time_to_acknowledge": _times(report.acknowledge),
        "time_to_resolve": _times(report.resolve),
        "resurveys_sent": report.resurveys_sent,
        "resurveys_answered": report.resurveys_answered,
        "recovered": report.recovered,
        "recovery_rate": report.recovery,
        "root_causes": [
            {"root_cause": row.value, "label": row.label, "cases": row.count}
            for row in report.root_causes
        ],
        "without_root_cause": report.without_root_cause,
        "playbook_outcomes": [
            {
                "segment": o.segment,
                "runs": o.runs,
                "sent": o.sent,
                "handed": o.handed,
                "skipped": o.skipped,
                "failed": o.failed,
                "clicked": o.clicked,
                "completed": o.completed,
                "coupons_issued": o.coupons_issued,
                "coupons_redeemed": o.coupons_redeemed,
                "next_responses": o.next_n,
                "next_promoters": o.next_segments.get("promoter", 0),
            }
            for o in outcomes
        ],
    }


def _aware(moment: datetime | None, zone) -> datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, zone)


def _load(row) -> dict:
    return {
        "id": row.key,
        "label": row.label,
        "open": row.open,
        "overdue": row.overdue,
        "opened": row.opened,
        "resolved": row.resolved,
    }


def _times(times) -> dict | None:
    if times is None:
        return None
    business = times.business
    return {
        "cases": times.conversations,
        "done": times.resolved,
        "waiting": times.waiting,
        "median_hours": times.calendar.median.value,
        "p90_hours": times.calendar.p90.value,
        "median_business_hours": business.median.value if business else None,
        "p90_business_hours": business.p90.value if business else None,
    }


@router.get("/brands/{slug}/cases/{case_id}", response={200: CaseDetailOut, **READ_ERRORS})
def case_detail(request, slug: str, case_id: int):
    """One case with its root cause, the responses and feedback that opened or joined it, and
    its timeline (status changes, notes, replies with their delivery status, escalation...)."""
    return _detail(actor_of(request, slug), case_id)


@router.post("/brands/{slug}/cases", response={201: CaseDetailOut, **WRITE_ERRORS}, auth=WORK)
def case_create(request, slug: str, payload: CaseCreate):
    """Open a case by hand. Its owner is `owner_id`, else the routing rules' or the location
    manager's; its due dates come from the SLA of its priority. 409 if the customer already
    has an open case or the response already belongs to one."""
    actor = actor_of(request, slug)
    location = _location(actor, payload.location_id)
    contact = None
    if payload.contact_id is not None:
        contact = contacts_visible_to(actor).filter(pk=payload.contact_id).first()
        if contact is None:
            raise NotFound("No such customer.", field="contact_id")
    response = None
    if payload.response_id is not None:
        try:
            response = response_get(actor, pk=payload.response_id)
        except NotFound:
            raise NotFound("No such response.", field="response_id") from None
        contact = contact or response.contact
    owner = _member(actor, payload.owner_id) if payload.owner_id is not None else None
    try:
        case = services.case_open_manually(
            actor=actor,
            location=location,
            title=payload.title,
            priority=payload.priority,
            contact=contact,
            owner=owner,
            response=response,
        )
    except AppError as error:
        raise type(error)(error.message, field=_body_field(error.field)) from error
    return Status(201, _detail(actor, case.pk))


def _body_field(field: str | None) -> str | None:
    """The service's field name as the body names it (owner → owner_id)."""
    return f"{field}_id" if field in {"owner", "contact", "location", "response"} else field


def _work(request, slug: str, case_id: int, change) -> dict:
    actor = actor_of(request, slug)
    case = selectors.case_get(actor, pk=case_id)
    try:
        change(actor, case)
    except AppError as error:
        raise type(error)(error.message, field=_body_field(error.field)) from error
    return _detail(actor, case_id)


@router.post(
    "/brands/{slug}/cases/{case_id}/transition",
    response={200: CaseDetailOut, **WRITE_ERRORS},
    auth=WORK,
)
def case_transition(request, slug: str, case_id: int, payload: CaseTransition):
    """Move the case along new → acknowledged → in progress → resolved → closed. A move the
    lifecycle does not allow is 409; resolving needs a resolution (`note`, 400 without)."""
    return _work(
        request,
        slug,
        case_id,
        lambda actor, case: services.case_transition(
            actor=actor, case=case, to=payload.to, note=payload.note
        ),
    )


@router.post(
    "/brands/{slug}/cases/{case_id}/assign",
    response={200: CaseDetailOut, **WRITE_ERRORS},
    auth=WORK,
)
def case_assign(request, slug: str, case_id: int, payload: CaseAssign):
    """Give the case to a member who may work cases at its location (`owner_id`), or to
    nobody (null)."""

    def change(actor, case):
        owner = _member(actor, payload.owner_id) if payload.owner_id is not None else None
        services.case_assign(actor=actor, case=case, owner=owner)

    return _work(request, slug, case_id, change)


@router.post(
    "/brands/{slug}/cases/{case_id}/priority",
    response={200: CaseDetailOut, **WRITE_ERRORS},
    auth=WORK,
)
def case_priority(request, slug: str, case_id: int, payload: CasePriority):
    """Change the priority; the due dates move to its SLA, counted from the opening."""
    return _work(
        request,
        slug,
        case_id,
        lambda actor, case: services.case_set_priority(
            actor=actor, case=case, priority=payload.priority
        ),
    )


@router.put(
    "/brands/{slug}/cases/{case_id}/root-cause",
    response={200: CaseDetailOut, **WRITE_ERRORS},
    auth=WORK,
)
def case_root_cause(request, slug: str, case_id: int, payload: CaseRootCause):
    """Record the root cause: what happened, when, for how long, who else noticed, why, how
    the customer reacted, what changed after, and the category. Only the fields sent change;
    `happened_at` needs an offset."""
    fields = payload.dict(exclude_unset=True)
    for name, value in list(fields.items()):
        if value is None and name != "happened_at":
            fields[name] = ""
    return _work(
        request,
        slug,
        case_id,
        lambda actor, case: services.case_record_root_cause(actor=actor, case=case, **fields),
    )


@router.post(
    "/brands/{slug}/cases/{case_id}/notes",
    response={201: CaseEventOut, **WRITE_ERRORS},
    auth=WORK,
)
def case_note(request, slug: str, case_id: int, payload: CaseNote):
    """An internal note on the case's timeline (never sent to the customer)."""
    actor = actor_of(request, slug)
    case = selectors.case_get(actor, pk=case_id)
    return Status(201, services.case_note(actor=actor, case=case, body=payload.body))


@router.post(
    "/brands/{slug}/cases/{case_id}/replies",
    response={201: CaseEventOut, **WRITE_ERRORS},
    auth=WORK,
)
def case_reply(request, slug: str, case_id: int, payload: CaseReply):
    """Reply to the customer by e-mail. The reply is `queued` and sent shortly by the task
    worker; read its `delivery` (sent or failed) from the case's timeline. 400 if the customer
    has no e-mail address; 409 if the case is not open."""
    actor = actor_of(request, slug)
    case = selectors.case_get(actor, pk=case_id)
    event = services.case_reply(actor=actor, case=case, body=payload.body, subject=payload.subject)
    return Status(201, event)


# --- Rules that open cases --------------------------------------------------------------------


def _rule_fields(actor, fields: dict) -> dict:
    """Body ids to the brand's objects (404 naming the field when out of reach)."""
    lookups = {"location_id": _location, "touchpoint_id": _touchpoint, "survey_id": _survey}
    for name, lookup in lookups.items():
        if name in fields:
            pk = fields.pop(name)
            fields[name.removesuffix("_id")] = lookup(actor, pk) if pk is not None else None
    return fields


@router.get("/brands/{slug}/case-rules", response={200: list[CaseRuleOut], **READ_ERRORS})
@paginate(LimitOffset)
def case_rule_list(request, slug: str):
    """The brand's rules in the order they are tried; the first match opens the case."""
    return selectors.case_rules_of(actor_of(request, slug))


@router.post(
    "/brands/{slug}/case-rules", response={201: CaseRuleOut, **WRITE_ERRORS}, auth=CONFIGURE
)
def case_rule_create(request, slug: str, payload: CaseRuleCreate):
    actor = actor_of(request, slug)
    fields = _rule_fields(actor, payload.dict())
    return Status(201, services.case_rule_create(actor=actor, **fields))


@router.get("/brands/{slug}/case-rules/{rule_id}", response={200: CaseRuleOut, **READ_ERRORS})
def case_rule_detail(request, slug: str, rule_id: int):
    return selectors.case_rule_get(actor_of(request, slug), pk=rule_id)


@router.patch(
    "/brands/{slug}/case-rules/{rule_id}",
    response={200: CaseRuleOut, **WRITE_ERRORS},
    auth=CONFIGURE,
)
def case_rule_patch(request, slug: str, rule_id: int, payload: CaseRulePatch):
    """Change the fields sent (e.g. `{"is_active": false}` to turn a rule off)."""
    actor = actor_of(request, slug)
    rule = selectors.case_rule_get(actor, pk=rule_id)
    fields = payload.dict(exclude_unset=True)
    for name in ("name", "trigger", "priority", "position", "is_active", "keywords"):
        if name in fields and fields[name] is None:
            raise AppError("This cannot be null.", field=name)
    return services.case_rule_update(actor=actor, rule=rule, **_rule_fields(actor, fields))


@router.delete(
    "/brands/{slug}/case-rules/{rule_id}",
    response={204: None, **WRITE_ERRORS},
    auth=CONFIGURE,
)
def case_rule_delete(request, slug: str, rule_id: int):
    """Delete a rule; the cases it opened stay."""
    actor = actor_of(request, slug)
    services.case_rule_delete(actor=actor, rule=selectors.case_rule_get(actor, pk=rule_id))
    return Status(204, None)


# --- Routing rules ----------------------------------------------------------------------------


@router.get("/brands/{slug}/routing-rules", response={200: list[RoutingRuleOut], **READ_ERRORS})
@paginate(LimitOffset)
def routing_rule_list(request, slug: str):
    """Who owns a new case: the first matching rule (by position) whose owner may work cases
    at the case's location; otherwise the location's manager."""
    return selectors.routing_rules_of(actor_of(request, slug))


@router.post(
    "/brands/{slug}/routing-rules",
    response={201: RoutingRuleOut, **WRITE_ERRORS},
    auth=CONFIGURE,
)
def routing_rule_create(request, slug: str, payload: RoutingRuleCreate):
    actor = actor_of(request, slug)
    try:
        route = services.routing_rule_create(
            actor=actor,
            owner=_member(actor, payload.owner_id),
            location=_location(actor, payload.location_id)
            if payload.location_id is not None
            else None,
            touchpoint=_touchpoint(actor, payload.touchpoint_id)
            if payload.touchpoint_id is not None
            else None,
            topic=payload.topic,
            position=payload.position,
        )
    except AppError as error:
        raise type(error)(error.message, field=_body_field(error.field)) from error
    return Status(201, route)


@router.delete(
    "/brands/{slug}/routing-rules/{route_id}",
    response={204: None, **WRITE_ERRORS},
    auth=CONFIGURE,
)
def routing_rule_delete(request, slug: str, route_id: int):
    actor = actor_of(request, slug)
    services.routing_rule_delete(actor=actor, route=selectors.routing_rule_get(actor, pk=route_id))
    return Status(204, None)


# --- SLA policies -----------------------------------------------------------------------------


def _sla(actor, priority: str) -> dict:
    if priority not in Priority.values:
        raise NotFound(f"No priority {priority!r}; one of {', '.join(Priority.values)}.")
    policy = selectors.sla_policies_of(actor).get(priority)
    acknowledge, resolve = services.DEFAULT_SLA_HOURS[priority]
    return {
        "priority": priority,
        "acknowledge_hours": policy.acknowledge_hours if policy else acknowledge,
        "resolve_hours": policy.resolve_hours if policy else resolve,
        "is_default": policy is None,
    }


@router.get("/brands/{slug}/sla-policies", response={200: list[SlaPolicyOut], **READ_ERRORS})
def sla_policy_list(request, slug: str):
    """Business hours to acknowledge and to resolve, per priority (defaults where unset)."""
    actor = actor_of(request, slug)
    return [_sla(actor, priority) for priority in Priority.values]


@router.get("/brands/{slug}/sla-policies/{priority}", response={200: SlaPolicyOut, **READ_ERRORS})
def sla_policy_detail(request, slug: str, priority: str):
    return _sla(actor_of(request, slug), priority)


@router.put(
    "/brands/{slug}/sla-policies/{priority}",
    response={200: SlaPolicyOut, **WRITE_ERRORS},
    auth=CONFIGURE,
)
def sla_policy_put(request, slug: str, priority: str, payload: SlaPolicyIn):
    """Set the business hours of one priority; cases opened (or re-prioritised) from now on
    get due dates from it, counted in their location's opening hours."""
    actor = actor_of(request, slug)
    _sla(actor, priority)
    services.sla_policy_set(
        actor=actor,
        priority=priority,
        acknowledge_hours=payload.acknowledge_hours,
        resolve_hours=payload.resolve_hours,
    )
    return _sla(actor, priority)
