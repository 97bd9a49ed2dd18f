"""Writes of the closed loop: rules, routing, SLAs, and every change to a case.

`cases_from_response` / `cases_from_feedback` are how rules open cases; both are idempotent (an
item joins at most one case, enforced by the database), and a customer with an open case has
their repeat complaint joined to it (one open case per customer, also enforced by the database).
Every other change goes through a service that checks who may do it and, for status, whether the
transition is allowed; each emits an event after commit for notifications and webhooks.
"""

import functools
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from opencx.contacts.models import Contact
from opencx.contacts.selectors import contact_address
from opencx.feedback.models import FeedbackItem
from opencx.insights.facade import business_deadline, ces_sides, default_satisfied
from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, Conflict, NotFound
from opencx.platform.events import emit
from opencx.platform.models import Location, Membership, Touchpoint, User
from opencx.platform.roles import Capability, Role
from opencx.platform.services import audit_record
from opencx.platform.validation import clean_text
from opencx.surveys.models import Question, Response, Survey
from opencx.surveys.services import invitation_create_follow_up

from .models import Case, CaseEvent, CaseRule, CaseSource, Priority, RoutingRule, SlaPolicy

CASE_OPENED = "case.opened"
CASE_CHANGED = "case.changed"
CASE_CLOSED = "case.closed"
CASE_ESCALATED = "case.escalated"
CASE_REPLY_QUEUED = "case.reply_queued"
CASE_RESOLVED = "case.resolved"

# Business hours to acknowledge and to resolve, when the brand has set no policy.
DEFAULT_SLA_HOURS = {
    Priority.URGENT: (1, 8),
    Priority.HIGH: (4, 24),
    Priority.NORMAL: (8, 40),
    Priority.LOW: (24, 80),
}
PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
DEFAULT_THRESHOLDS = {
    CaseRule.Trigger.NPS_AT_MOST: 6,
    CaseRule.Trigger.LOW_RATING: 2,
    CaseRule.Trigger.RATING_DROP: 3,
}
# The triggers that can match a review, mention, ticket, e-mail or chat.
FEEDBACK_TRIGGERS = (
    CaseRule.Trigger.NEGATIVE_SENTIMENT,
    CaseRule.Trigger.KEYWORD,
    CaseRule.Trigger.LOW_RATING,
)
NPS_RECOVERED_MIN = 7  # a re-survey answer of passive or promoter wins the customer back

S = Case.Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED}),
    S.ACKNOWLEDGED: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.CLOSED: frozenset(),
}
STAMPS = {
    S.ACKNOWLEDGED: "acknowledged_at",
    S.IN_PROGRESS: "in_progress_at",
    S.RESOLVED: "resolved_at",
    S.CLOSED: "closed_at",
}
ROOT_CAUSE_FIELDS = (
    "what_happened",
    "happened_at",
    "duration",
    "noticed_by",
    "why",
    "customer_reaction",
    "change_after",
    "root_cause",
)
MAX_TEXT = 5000


# --- Rules: which items open a case -------------------------------------------------------


def _words(keywords: Iterable[str]) -> list[str]:
    return [word.strip() for word in keywords if isinstance(word, str) and word.strip()]


def keyword_found(text: str, keywords: Iterable[str]) -> str:
    """The first keyword that starts a word of `text` (any case, any script), or ''.

    A word start, not a substring: "refund" finds "Refunded" but not "prefund"."""
    for word in _words(keywords):
        if re.search(rf"(?<!\w){re.escape(word)}", text, flags=re.IGNORECASE):
            return word
    return ""


def _bad_side(question: Question, score: int) -> bool:
    """Whether a CSAT or CES answer lies strictly on the worse half of its stored scale."""
    low, high = question.scale_min, question.scale_max
    if low is None or high is None:
        return False
    higher_is_better = question.polarity == Question.Polarity.HIGHER_IS_BETTER
    satisfied = question.satisfied_values
    try:
        if not satisfied:
            satisfied = default_satisfied(
                question.kind, low, high, higher_is_better=higher_is_better
            )
        _good, bad = ces_sides(
            low=low, high=high, higher_is_better=higher_is_better, satisfied=frozenset(satisfied)
        )
    except ValueError:
        return False
    return score in bad


def _in_scope(rule_or_route, location: Location, touchpoint_id: int | None) -> bool:
    if rule_or_route.location_id and not location.path.startswith(rule_or_route.location.path):
        return False
    return not (rule_or_route.touchpoint_id and rule_or_route.touchpoint_id != touchpoint_id)


def _response_text(response: Response) -> str:
    texts = [answer.text for answer in response.answers.all() if answer.text]
    return "\n".join([response.comment, *texts])


def _previous_score(response: Response) -> int | None:
    if response.contact_id is None:
        return None
    previous = (
        Response.objects.filter(
            survey_id=response.survey_id,
            contact_id=response.contact_id,
            is_partial=False,
            score__isnull=False,
            created_at__lt=response.created_at,
        )
        .order_by("-created_at", "-pk")
        .values_list("score", flat=True)
        .first()
    )
    return previous


def rule_matches_response(rule: CaseRule, response: Response) -> bool:
    """Whether `rule` opens a case for this complete response."""
    if rule.survey_id and rule.survey_id != response.survey_id:
        return False
    if not _in_scope(rule, response.location, response.touchpoint_id):
        return False
    trigger, threshold = rule.trigger, rule.threshold
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS.get(trigger)
    if trigger == CaseRule.Trigger.NPS_AT_MOST:
        return (
            response.survey.kind == Survey.Kind.NPS
            and response.score is not None
            and response.score <= threshold
        )
    if trigger == CaseRule.Trigger.BAD_SIDE:
        return any(
            answer.score is not None
            and answer.question.kind in (Question.Kind.CSAT, Question.Kind.CES)
            and _bad_side(answer.question, answer.score)
            for answer in response.answers.all()
        )
    if trigger == CaseRule.Trigger.KEYWORD:
        return bool(keyword_found(_response_text(response), rule.keywords))
    if trigger == CaseRule.Trigger.RATING_DROP:
        previous = _previous_score(response)
        return (
            previous is not None
            and response.score is not None
            and previous - response.score >= threshold
        )
    return False  # sentiment and review ratings belong to feedback items


def _normalised_rating(item: FeedbackItem) -> float | None:
    if item.rating is None:
        return None
    scale = item.rating_scale or 5
    return float(item.rating) / scale * 5


def rule_matches_feedback(rule: CaseRule, item: FeedbackItem) -> bool:
    """Whether `rule` opens a case for this review, mention, ticket, e-mail or chat."""
    if rule.survey_id or item.location_id is None:
        return False
    if not _in_scope(rule, item.location, item.touchpoint_id):
        return False
    threshold = rule.threshold
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS.get(rule.trigger)
    if rule.trigger == CaseRule.Trigger.NEGATIVE_SENTIMENT:
        return item.sentiment == "negative" and item.kind in (
            FeedbackItem.Kind.REVIEW,
            FeedbackItem.Kind.MENTION,
        )
    if rule.trigger == CaseRule.Trigger.KEYWORD:
        return bool(keyword_found(f"{item.title}\n{item.text}", rule.keywords))
    if rule.trigger == CaseRule.Trigger.LOW_RATING:
        rating = _normalised_rating(item)
        return rating is not None and rating <= threshold
    return False


# --- Owners and deadlines -------------------------------------------------------------------


def brand_cx_manager(brand_id: int) -> User | None:
    """Who overdue cases escalate to: a brand-wide CX manager, else an admin, else the owner."""
    for role in (Role.CX_MANAGER, Role.BRAND_ADMIN, Role.OWNER):
        membership = (
            Membership.objects.filter(
                brand_id=brand_id, role=role, location__isnull=True, user__is_active=True
            )
            .select_related("user")
            .order_by("pk")
            .first()
        )
        if membership is not None:
            return membership.user
    return None


def _can_work(user: User, location: Location) -> bool:
    """Whether `user` is a member who may reply and reaches `location`."""
    paths = location.lineage_paths[::-1]
    return (
        Membership.objects.filter(
            brand_id=location.brand_id,
            user=user,
            user__is_active=True,
            role__in=[Role.OWNER, Role.BRAND_ADMIN, Role.CX_MANAGER, Role.LOCATION_MANAGER],
        )
        .filter(_reach(paths))
        .exists()
    )


def _reach(paths: list[str]) -> Q:
    return Q(location__isnull=True) | Q(location__path__in=paths)


def default_owner(
    *, location: Location, touchpoint_id: int | None = None, text: str = ""
) -> User | None:
    """The first matching routing rule's owner; else the nearest location manager; else the
    brand's CX manager."""
    routes = RoutingRule.objects.filter(brand_id=location.brand_id).select_related(
        "location", "owner"
    )
    for route in routes:
        if not _in_scope(route, location, touchpoint_id):
            continue
        if route.topic and not keyword_found(text, [route.topic]):
            continue
        if _can_work(route.owner, location):
            return route.owner
    paths = location.lineage_paths[::-1]
    managers = {
        membership.location.path: membership.user
        for membership in Membership.objects.filter(
            brand_id=location.brand_id,
            role=Role.LOCATION_MANAGER,
            location__path__in=paths,
            user__is_active=True,
        )
        .select_related("user", "location")
        .order_by("-pk")  # the first appointed wins at each level
    }
    for path in paths:
        if path in managers:
            return managers[path]
    return brand_cx_manager(location.brand_id)


def sla_hours(brand_id: int, priority: str) -> tuple[int, int]:
    policy = SlaPolicy.objects.filter(brand_id=brand_id, priority=priority).first()
    if policy is not None:
        return policy.acknowledge_hours, policy.resolve_hours
    return DEFAULT_SLA_HOURS[priority]


def _due_dates(location: Location, priority: str, start: datetime) -> tuple[datetime, datetime]:
    acknowledge, resolve = sla_hours(location.brand_id, priority)

    def due(hours: int) -> datetime:
        return business_deadline(
            start=start,
            hours=hours,
            timezone_name=location.timezone,
            opening_hours=location.opening_hours,
        )

    return due(acknowledge), due(resolve)


# --- Opening and joining --------------------------------------------------------------------


def _title_for(rule: CaseRule | None, *, response=None, item=None) -> str:
    if response is not None:
        score = f" {response.score}" if response.score is not None else ""
        return f"{response.survey.name}:{score} at {response.location.name}"[:200]
    label = item.get_kind_display()
    rating = f" {item.rating:g}/{item.rating_scale or 5}" if item.rating is not None else ""
    return f"{label}{rating} from {item.author or 'a customer'} at {item.location.name}"[:200]


def _event(case: Case, kind: str, *, actor: User | None = None, body: str = "", **data):
    return CaseEvent.objects.create(case=case, kind=kind, actor=actor, body=body, data=data)


def _join(case: Case, *, rule: CaseRule, response=None, item=None) -> Case:
    CaseSource.objects.create(case=case, response=response, feedback=item, rule=rule)
    what = f"response #{response.pk}" if response is not None else f"feedback #{item.pk}"
    _event(case, CaseEvent.Kind.JOINED, body=f"Repeat complaint joined: {what}", rule=rule.name)
    fields = ["updated_at"]
    if PRIORITY_RANK[rule.priority] > PRIORITY_RANK[case.priority]:
        case.priority = rule.priority
        fields.append("priority")
    case.updated_at = timezone.now()
    case.save(update_fields=fields)
    emit(CASE_CHANGED, case_id=case.pk, brand_id=case.brand_id, change="joined")
    return case


def _open_or_join(
    *,
    rule: CaseRule,
    location: Location,
    contact: Contact | None,
    touchpoint: Touchpoint | None,
    text: str,
    response: Response | None = None,
    item: FeedbackItem | None = None,
) -> Case:
    for _attempt in range(2):
        try:
            with transaction.atomic():
                source = CaseSource.objects.filter(
                    **({"response": response} if response is not None else {"feedback": item})
                ).first()
                if source is not None:
                    return source.case  # delivered twice: already handled
                if contact is not None:
                    open_case = (
                        Case.objects.select_for_update()
                        .filter(
                            brand_id=location.brand_id,
                            contact=contact,
                            status__in=Case.OPEN_STATUSES,
                        )
                        .first()
                    )
                    if open_case is not None:
                        return _join(open_case, rule=rule, response=response, item=item)
                return _open(
                    rule=rule,
                    location=location,
                    contact=contact,
                    touchpoint=touchpoint,
                    text=text,
                    response=response,
                    item=item,
                )
        except IntegrityError:
            # Another worker opened this customer's case, or took this item, meanwhile.
            continue
    raise Conflict("The case changed while it was being opened; try again.")


def _open(*, rule, location, contact, touchpoint, text, response, item) -> Case:
    now = timezone.now()
    acknowledge_due, due = _due_dates(location, rule.priority, now)
    owner = default_owner(
        location=location, touchpoint_id=touchpoint.pk if touchpoint else None, text=text
    )
    case = Case.objects.create(
        brand_id=location.brand_id,
        location=location,
        touchpoint=touchpoint,
        contact=contact,
        rule=rule,
        title=_title_for(rule, response=response, item=item),
        priority=rule.priority,
        owner=owner,
        trigger_score=response.score if response is not None else None,
        survey=response.survey if response is not None else None,
        opened_at=now,
        acknowledge_due_at=acknowledge_due,
        due_at=due,
        updated_at=now,
    )
    CaseSource.objects.create(case=case, response=response, feedback=item, rule=rule)
    _event(
        case,
        CaseEvent.Kind.OPENED,
        body=f"Opened by the rule “{rule.name}”",
        rule=rule.name,
        owner=owner.email if owner else None,
    )
    emit(CASE_OPENED, case_id=case.pk, brand_id=case.brand_id)
    return case


def _resurvey_outcome(response: Response) -> Case | None:
    """If this response answers a case's re-survey, record whether the customer was won back."""
    case = (
        Case.objects.select_related("survey")
        .filter(resurvey_invitation_id=response.invitation_id)
        .first()
    )
    if case is None or response.score is None:
        return case
    if response.survey.kind == Survey.Kind.NPS:
        recovered = response.score >= NPS_RECOVERED_MIN
    else:
        headline = (
            response.answers.select_related("question")
            .filter(question__kind=response.survey.kind)
            .first()
        )
        recovered = headline is not None and not _bad_side(headline.question, response.score)
    with transaction.atomic():
        updated = Case.objects.filter(pk=case.pk, resurvey_score__isnull=True).update(
            resurvey_score=response.score, recovered=recovered, updated_at=timezone.now()
        )
        if updated:
            _event(
                case,
                CaseEvent.Kind.OUTCOME,
                body=f"Re-survey answered: {response.score}"
                + (" — customer won back" if recovered else " — not won back"),
                score=response.score,
                recovered=recovered,
            )
            emit(CASE_CHANGED, case_id=case.pk, brand_id=case.brand_id, change="recovered")
    return case


def _first_matching_rule(brand_id: int, matches, item) -> CaseRule | None:
    """The brand's first active rule, by position, that `matches` the item."""
    rules = CaseRule.objects.filter(brand_id=brand_id, is_active=True).select_related("location")
    return next((rule for rule in rules if matches(rule, item)), None)


def cases_from_response(*, response_id: int) -> Case | None:
    """Apply the brand's rules to a complete or abandoned response: open a case, join the
    customer's open case, record a re-survey's outcome, or nothing. Safe to run twice (an
    abandoned response finished later comes again, and is already handled)."""
    response = (
        Response.objects.select_related("survey", "location", "touchpoint", "contact")
        .prefetch_related("answers__question")
        .filter(Q(is_partial=False) | Q(abandoned_at__isnull=False), pk=response_id)
        .first()
    )
    if response is None:
        return None
    if (
        response.invitation_id is not None
        and Case.objects.filter(resurvey_invitation_id=response.invitation_id).exists()
    ):
        return _resurvey_outcome(response)
    rule = _first_matching_rule(response.brand_id, rule_matches_response, response)
    if rule is None:
        return None
    return _open_or_join(
        rule=rule,
        location=response.location,
        contact=response.contact,
        touchpoint=response.touchpoint,
        text=_response_text(response),
        response=response,
    )


def cases_from_feedback(*, feedback_id: int) -> Case | None:
    """Apply the brand's rules to a feedback item (a review, a mention...). Safe to run twice."""
    item = (
        FeedbackItem.objects.select_related("location", "touchpoint", "contact")
        .filter(pk=feedback_id)
        .first()
    )
    # A survey comment's response went through the rules already, with its scores.
    if item is None or item.location_id is None or item.kind == FeedbackItem.Kind.SURVEY:
        return None
    rule = _first_matching_rule(item.brand_id, rule_matches_feedback, item)
    if rule is None:
        return None
    return _open_or_join(
        rule=rule,
        location=item.location,
        contact=item.contact,
        touchpoint=item.touchpoint,
        text=f"{item.title}\n{item.text}",
        item=item,
    )


# --- Working a case -------------------------------------------------------------------------


def _check_can_work(actor: Actor, case: Case) -> None:
    if case.brand_id != actor.brand.pk or not actor.covers(case.location):
        raise NotFound("No such case.")
    actor.require(Capability.REPLY)


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("location").get(pk=case.pk)


_clean_text = functools.partial(clean_text, limit=MAX_TEXT)


def _has_other_open_case(case: Case) -> bool:
    if case.contact_id is None:
        return False
    others = Case.objects.filter(
        brand_id=case.brand_id, contact_id=case.contact_id, status__in=Case.OPEN_STATUSES
    )
    return others.exclude(pk=case.pk).exists()


def _move(case: Case, *, to: str, actor: Actor, note: str = "") -> None:
    """Put a locked case in status `to`, stamping the time, recording and announcing the move
    (the caller has checked that the lifecycle allows it)."""
    now = timezone.now()
    before = case.status
    case.status = to
    setattr(case, STAMPS[to], now)
    if to != S.ACKNOWLEDGED and case.acknowledged_at is None:
        case.acknowledged_at = now  # working or closing a case acknowledges it
    if to == S.RESOLVED and note:
        case.resolution = note
    if before == S.RESOLVED and to == S.IN_PROGRESS:
        case.resolved_at = None
    case.updated_at = now
    case.save()
    _event(
        case,
        CaseEvent.Kind.STATUS,
        actor=actor.user,
        body=note,
        before=before,
        after=to,
    )
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="case.status",
        obj=case,
        changes={"status": [before, to]},
    )
    emit(CASE_CHANGED, case_id=case.pk, brand_id=case.brand_id, change="status")
    if to == S.RESOLVED:
        emit(CASE_RESOLVED, case_id=case.pk, brand_id=case.brand_id)
    if to == S.CLOSED:
        emit(CASE_CLOSED, case_id=case.pk, brand_id=case.brand_id)


def case_transition(*, actor: Actor, case: Case, to: str, note: str = "") -> Case:
    """Move a case to another status, if the lifecycle allows it, stamping the time.

    Resolving needs a resolution (given here as `note` or recorded before); closing without
    resolving needs a reason. A resolved case may be reopened (back to in progress)."""
    _check_can_work(actor, case)
    if to not in Case.Status.values:
        raise AppError(f"Unknown status {to!r}.", field="status")
    note = _clean_text(note, "note")
    with transaction.atomic():
        case = _locked(case)
        if to not in TRANSITIONS[case.status]:
            raise Conflict(
                f"A {case.get_status_display().lower()} case cannot become "
                f"{Case.Status(to).label.lower()}.",
                field="status",
            )
        if to == S.RESOLVED and not (note or case.resolution):
            raise AppError("Say how the case was resolved.", field="note")
        if to == S.CLOSED and case.status != S.RESOLVED and not note:
            raise AppError("Say why the case is closed without a resolution.", field="note")
        if to == S.IN_PROGRESS and case.status == S.RESOLVED and _has_other_open_case(case):
            raise Conflict(
                "This customer has another open case; work that one instead.", field="status"
            )
        _move(case, to=to, actor=actor, note=note)
    return case


def case_assign(*, actor: Actor, case: Case, owner: User | None) -> Case:
    """Give the case to another member who may work it at its location (or to nobody)."""
    _check_can_work(actor, case)
    if owner is not None and not _can_work(owner, case.location):
        raise AppError("That person cannot work cases at this location.", field="owner")
    with transaction.atomic():
        case = _locked(case)
        before = case.owner
        if before == owner:
            return case
        case.owner = owner
        case.updated_at = timezone.now()
        case.save(update_fields=["owner", "updated_at"])
        _event(
            case,
            CaseEvent.Kind.ASSIGNED,
            actor=actor.user,
            body=f"Owner: {owner.email if owner else 'nobody'}",
            before=before.email if before else None,
            after=owner.email if owner else None,
        )
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="case.assign",
            obj=case,
            changes={"owner": [before.pk if before else None, owner.pk if owner else None]},
        )
        emit(CASE_CHANGED, case_id=case.pk, brand_id=case.brand_id, change="owner")
    return case


def case_set_priority(*, actor: Actor, case: Case, priority: str) -> Case:
    """Change the priority; the due dates move to the new SLA, counted from the opening."""
    _check_can_work(actor, case)
    if priority not in Priority.values:
        raise AppError(f"Unknown priority {priority!r}.", field="priority")
    with transaction.atomic():
        case = _locked(case)
        before = case.priority
        if before == priority:
            return case
        case.priority = priority
        case.acknowledge_due_at, case.due_at = _due_dates(case.location, priority, case.opened_at)
        case.updated_at = timezone.now()
        case.save()
        _event(case, CaseEvent.Kind.PRIORITY, actor=actor.user, before=before, after=priority)
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="case.priority",
            obj=case,
            changes={"priority": [before, priority]},
        )
        emit(CASE_CHANGED, case_id=case.pk, brand_id=case.brand_id, change="priority")
    return case


def case_record_root_cause(*, actor: Actor, case: Case, **fields) -> Case:
    """Record what happened, when, for how long, who else noticed, why, how the customer
    reacted, what changed after, and the root-cause category for reporting."""
    _check_can_work(actor, case)
    unknown = sorted(set(fields) - set(ROOT_CAUSE_FIELDS))
    if unknown:
        raise AppError(f"Unknown field {unknown[0]!r}.", field=unknown[0])
    cleaned: dict = {}
    for name, value in fields.items():
        if name == "happened_at":
            if value is not None and not isinstance(value, datetime):
                raise AppError("Expected a date and time.", field=name)
            if value is not None and timezone.is_naive(value):
                raise AppError("The time needs a time zone.", field=name)
            cleaned[name] = value
        elif name == "root_cause":
            if value not in ("", None, *Case.RootCause.values):
                raise AppError(f"Unknown root-cause category {value!r}.", field=name)
            cleaned[name] = value or ""
        else:
            limit = Case._meta.get_field(name).max_length or MAX_TEXT
            cleaned[name] = _clean_text(value, name, limit=limit)
    with transaction.atomic():
        case = _locked(case)
        changes = {k: [str(getattr(case, k)), str(v)] for k, v in cleaned.items()}
        changes = {k: pair for k, pair in changes.items() if pair[0] != pair[1]}
        if not changes:
            return case
        for name, value in cleaned.items():
            setattr(case, name, value)
        case.updated_at = timezone.now()
        case.save()
        _event(case, CaseEvent.Kind.ROOT_CAUSE, actor=actor.user, fields=sorted(changes))
        audit_record(actor_user=actor.user, brand=actor.brand, action="case.root_cause", obj=case)
        emit(CASE_CHANGED, case_id=case.pk, brand_id=case.brand_id, change="root_cause")
    return case


def case_note(*, actor: Actor, case: Case, body: str) -> CaseEvent:
    """An internal note on the case's timeline (never sent to the customer)."""
    _check_can_work(actor, case)
    body = _clean_text(body, "body", required=True)
    with transaction.atomic():
        event = _event(case, CaseEvent.Kind.NOTE, actor=actor.user, body=body)
        Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    return event


def case_reply(*, actor: Actor, case: Case, body: str, subject: str = "") -> CaseEvent:
    """Reply to the customer by e-mail from the case; the mail goes out after commit.

    Replying to a new case acknowledges it and puts it in progress."""
    _check_can_work(actor, case)
    body = _clean_text(body, "body", required=True)
    subject = _clean_text(subject, "subject", limit=200)
    address = contact_address(case.contact) if case.contact is not None else ""
    if not address:
        raise AppError("This customer has no e-mail address to reply to.", field="body")
    with transaction.atomic():
        locked = _locked(case)
        if not locked.is_open:
            raise Conflict("Reopen the case before replying.", field="body")
        event = CaseEvent.objects.create(
            case=locked,
            kind=CaseEvent.Kind.REPLY,
            actor=actor.user,
            body=body,
            data={"to": address, "subject": subject or f"About your feedback: {locked.title}"},
            message_id=make_msgid(domain="opencx.local"),
            delivery="queued",
        )
        if locked.status in (S.NEW, S.ACKNOWLEDGED):
            _move(locked, to=S.IN_PROGRESS, actor=actor)
        else:
            locked.updated_at = timezone.now()
            locked.save(update_fields=["updated_at"])
        audit_record(actor_user=actor.user, brand=actor.brand, action="case.reply", obj=locked)
        emit(CASE_REPLY_QUEUED, event_id=event.pk)
    return event


def case_reply_delivered(*, event_id: int, error: str = "") -> None:
    """Record the mail server's answer for a reply (a system write, from the sending task)."""
    CaseEvent.objects.filter(pk=event_id, kind=CaseEvent.Kind.REPLY).update(
        delivery="failed" if error else "sent", delivery_error=error[:500]
    )


def case_resurvey_send(*, case_id: int) -> Case | None:
    """After resolution, invite the customer to a short re-survey (once per case)."""
    case = (
        Case.objects.select_related("survey", "location", "contact")
        .filter(pk=case_id, status__in=[S.RESOLVED, S.CLOSED])
        .first()
    )
    if case is None or case.contact is None or case.resurvey_invitation_id is not None:
        return case
    survey = case.survey
    if survey is None or not survey.is_active:
        survey = (
            Survey.objects.filter(brand_id=case.brand_id, kind=Survey.Kind.NPS, is_active=True)
            .order_by("pk")
            .first()
        )
    if survey is None:
        return case
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.resurvey_invitation_id is not None:
            return locked
        invitation = invitation_create_follow_up(
            survey=survey, contact=case.contact, location=case.location
        )
        locked.resurvey_invitation = invitation
        locked.save(update_fields=["resurvey_invitation"])
        if invitation.skip_reason:
            body = f"No re-survey sent: {invitation.skip_reason}"
        else:
            body = f"Re-survey “{survey.name}” sent to {invitation.address}"
        _event(locked, CaseEvent.Kind.RESURVEY, body=body, invitation=invitation.pk)
    return locked


def cases_escalate_overdue(*, now: datetime | None = None) -> list[int]:
    """Escalate open cases past their due date to the brand's CX manager (once each)."""
    now = now or timezone.now()
    escalated = []
    overdue = Case.objects.filter(
        status__in=Case.OPEN_STATUSES, due_at__lt=now, escalated_at__isnull=True
    ).values_list("pk", "brand_id")
    for case_id, brand_id in overdue:
        manager = brand_cx_manager(brand_id)
        with transaction.atomic():
            claimed = Case.objects.filter(pk=case_id, escalated_at__isnull=True).update(
                escalated_at=now, escalated_to=manager, updated_at=now
            )
            if not claimed:
                continue
            case = Case.objects.get(pk=case_id)
            late = now - case.due_at
            _event(
                case,
                CaseEvent.Kind.ESCALATED,
                body=f"Overdue by {_span(late)}; escalated to "
                + (manager.email if manager else "nobody (the brand has no CX manager)"),
                to=manager.email if manager else None,
            )
            emit(CASE_ESCALATED, case_id=case_id, brand_id=brand_id)
        escalated.append(case_id)
    return escalated


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


# --- Configuration: rules, routing, SLA policies --------------------------------------------

RULE_FIELDS = (
    "name",
    "trigger",
    "threshold",
    "keywords",
    "location",
    "touchpoint",
    "survey",
    "priority",
    "position",
    "is_active",
)


def _clean_rule(actor: Actor, fields: dict, *, partial: bool) -> dict:
    unknown = sorted(set(fields) - set(RULE_FIELDS))
    if unknown:
        raise AppError(f"Unknown field {unknown[0]!r}.", field=unknown[0])
    cleaned = dict(fields)
    if "name" in fields or not partial:
        cleaned["name"] = _clean_text(fields.get("name"), "name", required=True, limit=120)
    trigger_given = "trigger" in fields or not partial
    if trigger_given and fields.get("trigger") not in CaseRule.Trigger.values:
        raise AppError("Choose what opens the case.", field="trigger")
    if fields.get("priority", Priority.NORMAL) not in Priority.values:
        raise AppError("Unknown priority.", field="priority")
    if "keywords" in fields:
        keywords = fields["keywords"]
        if isinstance(keywords, str):
            keywords = re.split(r"[,\n]", keywords)
        if not isinstance(keywords, list) or not all(isinstance(w, str) for w in keywords):
            raise AppError("Keywords are a list of words.", field="keywords")
        cleaned["keywords"] = list(dict.fromkeys(_words(keywords)))[:100]
        if any(len(word) > 80 for word in cleaned["keywords"]):
            raise AppError("A keyword is at most 80 characters.", field="keywords")
    if cleaned.get("trigger") == CaseRule.Trigger.KEYWORD and not cleaned.get("keywords"):
        raise AppError("A keyword rule needs at least one keyword.", field="keywords")
    threshold = fields.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int)):
        raise AppError("The threshold is a whole number.", field="threshold")
    if threshold is not None and not -100 <= threshold <= 100:
        raise AppError("The threshold lies between -100 and 100.", field="threshold")
    for name in ("location", "touchpoint", "survey"):
        obj = fields.get(name)
        if obj is not None and obj.brand_id != actor.brand.pk:
            raise NotFound(f"No such {name}.", field=name)
    location = fields.get("location")
    if location is not None and not actor.covers(location):
        raise NotFound("No such location.", field="location")
    return cleaned


def case_rule_create(*, actor: Actor, **fields) -> CaseRule:
    actor.require(Capability.MANAGE_FEEDBACK)
    cleaned = _clean_rule(actor, fields, partial=False)
    with transaction.atomic():
        rule = CaseRule.objects.create(brand=actor.brand, **cleaned)
        audit_record(actor_user=actor.user, brand=actor.brand, action="case_rule.create", obj=rule)
    return rule


def case_rule_update(*, actor: Actor, rule: CaseRule, **fields) -> CaseRule:
    actor.require(Capability.MANAGE_FEEDBACK)
    if rule.brand_id != actor.brand.pk:
        raise NotFound("No such rule.")
    merged = {"trigger": rule.trigger, "keywords": rule.keywords, **fields}
    cleaned = _clean_rule(actor, merged, partial=True)
    cleaned = {k: v for k, v in cleaned.items() if k in fields}
    with transaction.atomic():
        changes = {k: [str(getattr(rule, k)), str(v)] for k, v in cleaned.items()}
        for name, value in cleaned.items():
            setattr(rule, name, value)
        rule.save()
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="case_rule.update",
            obj=rule,
            changes={k: v for k, v in changes.items() if v[0] != v[1]},
        )
    return rule


def case_rule_delete(*, actor: Actor, rule: CaseRule) -> None:
    actor.require(Capability.MANAGE_FEEDBACK)
    if rule.brand_id != actor.brand.pk:
        raise NotFound("No such rule.")
    with transaction.atomic():
        audit_record(actor_user=actor.user, brand=actor.brand, action="case_rule.delete", obj=rule)
        rule.delete()


def routing_rule_create(
    *,
    actor: Actor,
    owner: User,
    location: Location | None = None,
    touchpoint: Touchpoint | None = None,
    topic: str = "",
    position: int = 0,
) -> RoutingRule:
    actor.require(Capability.MANAGE_FEEDBACK)
    for name, obj in (("location", location), ("touchpoint", touchpoint)):
        if obj is not None and obj.brand_id != actor.brand.pk:
            raise NotFound(f"No such {name}.", field=name)
    if location is not None and not actor.covers(location):
        raise NotFound("No such location.", field="location")
    if not Membership.objects.filter(brand=actor.brand, user=owner).exists():
        raise AppError("The owner must be a member of this brand.", field="owner")
    topic = _clean_text(topic, "topic", limit=80)
    with transaction.atomic():
        route = RoutingRule.objects.create(
            brand=actor.brand,
            owner=owner,
            location=location,
            touchpoint=touchpoint,
            topic=topic,
            position=position,
        )
        audit_record(
            actor_user=actor.user, brand=actor.brand, action="routing_rule.create", obj=route
        )
    return route


def routing_rule_delete(*, actor: Actor, route: RoutingRule) -> None:
    actor.require(Capability.MANAGE_FEEDBACK)
    if route.brand_id != actor.brand.pk:
        raise NotFound("No such routing rule.")
    with transaction.atomic():
        audit_record(
            actor_user=actor.user, brand=actor.brand, action="routing_rule.delete", obj=route
        )
        route.delete()


def sla_policy_set(
    *, actor: Actor, priority: str, acknowledge_hours: int, resolve_hours: int
) -> SlaPolicy:
    """Set the business hours to acknowledge and to resolve cases of one priority."""
    actor.require(Capability.MANAGE_FEEDBACK)
    if priority not in Priority.values:
        raise AppError("Unknown priority.", field="priority")
    for name, value in (("acknowledge_hours", acknowledge_hours), ("resolve_hours", resolve_hours)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2000:
            raise AppError("Between 1 and 2000 business hours.", field=name)
    if resolve_hours < acknowledge_hours:
        raise AppError("Resolving cannot be due before acknowledging.", field="resolve_hours")
    with transaction.atomic():
        policy, _created = SlaPolicy.objects.update_or_create(
            brand=actor.brand,
            priority=priority,
            defaults={"acknowledge_hours": acknowledge_hours, "resolve_hours": resolve_hours},
        )
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="sla_policy.set",
            obj=policy,
            changes={"priority": priority, "hours": [acknowledge_hours, resolve_hours]},
        )
    return policy


def case_open_manually(
    *,
    actor: Actor,
    location: Location,
    title: str,
    contact: Contact | None = None,
    priority: str = Priority.NORMAL,
    owner: User | None = None,
    response: Response | None = None,
) -> Case:
    """Open a case by hand (e.g. from a response or a customer's page)."""
    actor.require(Capability.REPLY)
    if location.brand_id != actor.brand.pk or not actor.covers(location):
        raise NotFound("No such location.", field="location")
    if contact is not None and contact.brand_id != actor.brand.pk:
        raise NotFound("No such customer.", field="contact")
    if response is not None and response.brand_id != actor.brand.pk:
        raise NotFound("No such response.", field="response")
    if priority not in Priority.values:
        raise AppError("Unknown priority.", field="priority")
    title = _clean_text(title, "title", required=True, limit=200)
    if owner is not None and not _can_work(owner, location):
        raise AppError("That person cannot work cases at this location.", field="owner")
    now = timezone.now()
    acknowledge_due, due = _due_dates(location, priority, now)
    try:
        with transaction.atomic():
            case = Case.objects.create(
                brand=actor.brand,
                location=location,
                contact=contact,
                title=title,
                priority=priority,
                owner=owner or default_owner(location=location),
                trigger_score=response.score if response is not None else None,
                survey=response.survey if response is not None else None,
                opened_at=now,
                acknowledge_due_at=acknowledge_due,
                due_at=due,
                updated_at=now,
            )
            if response is not None:
                CaseSource.objects.create(case=case, response=response)
            _event(case, CaseEvent.Kind.OPENED, actor=actor.user, body="Opened by hand")
            audit_record(actor_user=actor.user, brand=actor.brand, action="case.open", obj=case)
            emit(CASE_OPENED, case_id=case.pk, brand_id=case.brand_id)
    except IntegrityError as error:
        raise Conflict(
            "This customer already has an open case, or this response belongs to one.",
            field="contact",
        ) from error
    return case
