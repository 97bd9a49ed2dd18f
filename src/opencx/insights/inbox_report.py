"""The inbox report: response and resolution times, service-level attainment and CSAT of
conversations, per agent, team, location, channel or inbox, from the reporting fact table
(`inbox.ConversationEvent`).

Conversations started in the period are counted. A conversation's first response and first
resolution are its `first_response` and `resolved` events (calendar and business seconds, as
recorded when they happened); one still unanswered (unresolved) ran at least until now and is
right-censored, never counted as 0 (Kaplan–Meier median and p90 with their intervals, through
`facade.service_times`). A service-level target is met when the event says so, missed when it
says so or a `sla_breach` event names it; conversations without a policy, or still inside the
target, are left out of the share. CSAT is the share of satisfied answers (the survey
question's own satisfied set) to the survey sent after resolution.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from opencx.inbox.models import Conversation, ConversationEvent
from opencx.inbox.selectors import conversations_visible_to
from opencx.platform.actor import Actor
from opencx.platform.models import Location
from opencx.surveys.models import Question

from . import facade
from .exports import Table

E = ConversationEvent.Kind
GROUPINGS = {
    "agent": "Agent",
    "team": "Team",
    "location": "Location",
    "channel": "Channel",
    "inbox": "Inbox",
}
BASES = {"calendar": "Calendar hours", "business": "Business hours"}
SLA_TARGETS = ("first_response", "resolution")


@dataclass(frozen=True)
class ConversationFacts:
    """One conversation as the report sees it (also one row of the export)."""

    conversation: Conversation
    agent: object  # the User who answered first, else the assignee; None: nobody
    first_response: ConversationEvent | None
    resolved: ConversationEvent | None
    frt_hours: tuple[float, float]  # (calendar, business); to now when unanswered
    resolution_hours: tuple[float, float]
    sla: dict  # target -> "met" | "missed" | ""
    csat_score: int | None
    csat_satisfied: bool | None


@dataclass(frozen=True)
class GroupFigures:
    key: object
    label: str
    conversations: int
    first_response: facade.ServiceTimes
    resolution: facade.ServiceTimes
    sla: dict  # target -> Score (share met)
    csat: object  # Score: % satisfied


def _hours_to(conversation: Conversation, end: datetime) -> tuple[float, float]:
    location = conversation.location
    calendar = max((end - conversation.created_at).total_seconds(), 0.0) / 3600
    business = facade.business_seconds(
        start=conversation.created_at,
        end=end,
        timezone_name=location.timezone,
        opening_hours=location.opening_hours,
    )
    return calendar, business / 3600


def _satisfied_sets(survey_ids: set[int]) -> dict[int, set[int]]:
    """Each CSAT survey's satisfied scores, as its headline question stores them."""
    sets = {}
    for question in Question.objects.filter(survey_id__in=survey_ids, kind=Question.Kind.CSAT):
        values = set(question.satisfied_values or [])
        if not values and question.scale_min is not None and question.scale_max is not None:
            values = set(
                facade.default_satisfied(
                    "csat",
                    question.scale_min,
                    question.scale_max,
                    higher_is_better=question.polarity == Question.Polarity.HIGHER_IS_BETTER,
                )
            )
        sets.setdefault(question.survey_id, values)
    return sets


def conversation_facts(
    actor: Actor,
    *,
    location: Location | None,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
) -> list[ConversationFacts]:
    """The conversations the actor may see that started in [start, end), with their facts."""
    now = now or timezone.now()
    events = ConversationEvent.objects.filter(
        kind__in=(E.FIRST_RESPONSE, E.RESOLVED, E.SLA_BREACH)
    ).order_by("at", "pk")
    conversations = (
        conversations_visible_to(actor, location=location)
        .filter(created_at__gte=start, created_at__lt=end)
        .select_related(
            "location",
            "channel",
            "inbox",
            "contact",
            "assignee",
            "team",
            "csat_invitation__response",
        )
        .prefetch_related(
            Prefetch("events", queryset=events.select_related("agent"), to_attr="facts"),
            "labels",
        )
        .order_by("created_at", "pk")
    )
    conversations = list(conversations)
    satisfied = _satisfied_sets(
        {c.csat_invitation.survey_id for c in conversations if c.csat_invitation_id}
    )
    found = []
    for conversation in conversations:
        first = next((e for e in conversation.facts if e.kind == E.FIRST_RESPONSE), None)
        resolved = next((e for e in conversation.facts if e.kind == E.RESOLVED), None)
        breached = {e.detail for e in conversation.facts if e.kind == E.SLA_BREACH}
        sla = {}
        for target, event in (("first_response", first), ("resolution", resolved)):
            if target in breached or (event is not None and event.detail == "missed"):
                sla[target] = "missed"
            elif event is not None and event.detail == "met":
                sla[target] = "met"
            else:
                sla[target] = ""
        sla["next_response"] = "missed" if "next_response" in breached else ""
        score = None
        invitation = conversation.csat_invitation
        response = getattr(invitation, "response", None) if invitation else None
        if response is not None and response.score is not None:
            score = response.score
        found.append(
            ConversationFacts(
                conversation=conversation,
                agent=(first.agent if first is not None and first.agent else conversation.assignee),
                first_response=first,
                resolved=resolved,
                frt_hours=(
                    (first.seconds / 3600, (first.business_seconds or 0) / 3600)
                    if first is not None
                    else _hours_to(conversation, now)
                ),
                resolution_hours=(
                    (resolved.seconds / 3600, (resolved.business_seconds or 0) / 3600)
                    if resolved is not None
                    else _hours_to(conversation, now)
                ),
                sla=sla,
                csat_score=score,
                csat_satisfied=(
                    None if score is None else score in satisfied.get(invitation.survey_id, set())
                ),
            )
        )
    return found


def _group_key(facts: ConversationFacts, by: str):
    conversation = facts.conversation
    value = {
        "agent": facts.agent,
        "team": conversation.team,
        "location": conversation.location,
        "channel": conversation.channel,
        "inbox": conversation.inbox,
    }[by]
    if value is None:
        return (None, "Nobody" if by == "agent" else "None")
    return (value.pk, str(value))


def figures(rows: list[ConversationFacts], *, basis: str, key=None, label="All") -> GroupFigures:
    column = 0 if basis == "calendar" else 1
    unit = "hours" if basis == "calendar" else "business hours"
    sla = {}
    for target in SLA_TARGETS:
        decided = [r.sla[target] for r in rows if r.sla[target]]
        sla[target] = facade.share_score(
            n=len(decided), satisfied=sum(1 for v in decided if v == "met")
        )
    rated = [r.csat_satisfied for r in rows if r.csat_satisfied is not None]
    return GroupFigures(
        key=key,
        label=label,
        conversations=len(rows),
        first_response=facade.service_times(
            [(r.frt_hours[column], r.first_response is not None) for r in rows], unit=unit
        ),
        resolution=facade.service_times(
            [(r.resolution_hours[column], r.resolved is not None) for r in rows], unit=unit
        ),
        sla=sla,
        csat=facade.share_score(n=len(rated), satisfied=sum(rated)),
    )


def grouped(rows: list[ConversationFacts], *, by: str, basis: str) -> list[GroupFigures]:
    groups = defaultdict(list)
    for row in rows:
        groups[_group_key(row, by)].append(row)
    return [
        figures(members, basis=basis, key=key, label=label)
        for (key, label), members in sorted(groups.items(), key=lambda item: item[0][1].lower())
    ]


def _round(value):
    return None if value is None else round(value, 2)


def _score_cells(score) -> list:
    return [_round(score.value), score.n, _round(score.ci_low), _round(score.ci_high)]


def figures_table(groups: list[GroupFigures], *, by: str, basis: str) -> Table:
    unit = "h" if basis == "calendar" else "business h"
    return Table(
        name=f"by-{by}",
        title=f"Inbox by {by}",
        headers=[
            GROUPINGS[by],
            "Conversations",
            "Answered",
            "Unanswered (censored)",
            f"Median first response ({unit})",
            "low",
            "high",
            f"p90 first response ({unit})",
            "Resolved",
            "Unresolved (censored)",
            f"Median resolution ({unit})",
            "low",
            "high",
            f"p90 resolution ({unit})",
            "% first response in SLA",
            "n",
            "low",
            "high",
            "% resolution in SLA",
            "n",
            "low",
            "high",
            "% CSAT satisfied",
            "n",
            "low",
            "high",
        ],
        rows=[
            [
                g.label,
                g.conversations,
                g.first_response.done,
                g.first_response.waiting,
                _round(g.first_response.median.value),
                _round(g.first_response.median.ci_low),
                _round(g.first_response.median.ci_high),
                _round(g.first_response.p90.value),
                g.resolution.done,
                g.resolution.waiting,
                _round(g.resolution.median.value),
                _round(g.resolution.median.ci_low),
                _round(g.resolution.median.ci_high),
                _round(g.resolution.p90.value),
                *_score_cells(g.sla["first_response"]),
                *_score_cells(g.sla["resolution"]),
                *_score_cells(g.csat),
            ]
            for g in groups
        ],
    )


EXPORT_HEADERS = [
    "Conversation id",
    "Subject",
    "Inbox",
    "Channel",
    "Location",
    "Contact id",
    "Contact",
    "Status",
    "Priority",
    "Assignee",
    "Team",
    "Labels",
    "Created",
    "First response",
    "Resolved",
    "First response (h)",
    "First response (business h)",
    "Resolution (h)",
    "Resolution (business h)",
    "First response SLA",
    "Next response SLA",
    "Resolution SLA",
    "CSAT score",
]


def _export_row(facts: ConversationFacts) -> list:
    c = facts.conversation
    first, resolved = facts.first_response, facts.resolved
    return [
        c.pk,
        c.subject,
        c.inbox.name if c.inbox else None,
        c.channel.name,
        c.location.name,
        c.contact_id,
        c.contact.name if c.contact else None,
        c.status,
        c.priority,
        str(c.assignee) if c.assignee else None,
        c.team.name if c.team else None,
        ", ".join(sorted(label.name for label in c.labels.all())),
        c.created_at,
        first.at if first else None,
        resolved.at if resolved else None,
        _round(facts.frt_hours[0]) if first else None,
        _round(facts.frt_hours[1]) if first else None,
        _round(facts.resolution_hours[0]) if resolved else None,
        _round(facts.resolution_hours[1]) if resolved else None,
        facts.sla["first_response"] or None,
        facts.sla["next_response"] or None,
        facts.sla["resolution"] or None,
        facts.csat_score,
    ]


def conversations_table(rows: list[ConversationFacts]) -> Table:
    """One row per conversation (the row-level export)."""
    return Table(
        name="conversations",
        title="Conversations",
        headers=EXPORT_HEADERS,
        rows=(_export_row(facts) for facts in rows),
    )
