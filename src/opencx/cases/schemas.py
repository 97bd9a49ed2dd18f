"""API shapes for cases, the rules that open them, routing rules and SLA policies."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

Status = Literal["new", "acknowledged", "in_progress", "resolved", "closed"]
PriorityName = Literal["low", "normal", "high", "urgent"]
RootCauseName = Literal[
    "",
    "staff",
    "waiting",
    "product",
    "price",
    "availability",
    "delivery",
    "process",
    "digital",
    "premises",
    "other",
]


class CaseOut(Schema):
    id: int
    title: str
    status: str
    priority: str
    location_id: int
    touchpoint_id: int | None
    contact_id: int | None
    owner_id: int | None
    rule_id: int | None
    trigger_score: int | None
    survey_id: int | None
    opened_at: datetime
    acknowledged_at: datetime | None
    in_progress_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    acknowledge_due_at: datetime | None = Field(description="Acknowledge by (business hours)")
    due_at: datetime | None = Field(description="Resolve by (business hours)")
    overdue: bool = Field(description="Open and past its due date")
    escalated_at: datetime | None
    escalated_to_id: int | None
    root_cause: str
    resolution: str
    resurvey_invitation_id: int | None
    resurvey_score: int | None
    recovered: bool | None = Field(description="Won back, by the re-survey; null until answered")
    updated_at: datetime

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.is_overdue()


class CaseSourceOut(Schema):
    response_id: int | None
    feedback_id: int | None
    rule_id: int | None
    added_at: datetime


class CaseEventOut(Schema):
    id: int
    kind: str
    actor_id: int | None
    body: str
    data: dict
    message_id: str
    delivery: str = Field(description="Replies: queued, sending, sent or failed")
    delivery_error: str
    at: datetime


class CaseDetailOut(CaseOut):
    what_happened: str
    happened_at: datetime | None
    duration: str
    noticed_by: str
    why: str
    customer_reaction: str
    change_after: str
    sources: list[CaseSourceOut]
    timeline: list[CaseEventOut]


class CaseCreate(Schema):
    title: str = Field(max_length=200)
    location_id: int
    priority: PriorityName = "normal"
    contact_id: int | None = None
    owner_id: int | None = Field(None, description="Default: routing rules, then the manager")
    response_id: int | None = Field(None, description="A response the case is about")


class CaseTransition(Schema):
    to: Status
    note: str = Field("", description="Required to resolve (the resolution) or to close unresolved")


class CaseAssign(Schema):
    owner_id: int | None = Field(description="A member who may work cases there; null: nobody")


class CasePriority(Schema):
    priority: PriorityName


class CaseRootCause(Schema):
    """Only the fields sent change."""

    what_happened: str | None = None
    happened_at: datetime | None = Field(None, description="With an offset")
    duration: str | None = None
    noticed_by: str | None = None
    why: str | None = None
    customer_reaction: str | None = None
    change_after: str | None = None
    root_cause: RootCauseName | None = None


class CaseNote(Schema):
    body: str


class CaseReply(Schema):
    body: str
    subject: str = ""


# --- Rules, routing, SLA ---


class CaseRuleOut(Schema):
    id: int
    name: str
    trigger: str
    threshold: int | None
    keywords: list[str]
    location_id: int | None
    touchpoint_id: int | None
    survey_id: int | None
    priority: str
    position: int
    is_active: bool
    created_at: datetime


TriggerName = Literal[
    "nps_at_most", "bad_side", "negative_sentiment", "keyword", "low_rating", "rating_drop"
]


class CaseRuleCreate(Schema):
    name: str
    trigger: TriggerName
    threshold: int | None = None
    keywords: list[str] = Field(default_factory=list, max_length=100)
    location_id: int | None = None
    touchpoint_id: int | None = None
    survey_id: int | None = None
    priority: PriorityName = "normal"
    position: int = Field(0, ge=0, le=100000)
    is_active: bool = True


class CaseRulePatch(Schema):
    """Only the fields sent change; null location/touchpoint/survey means everywhere."""

    name: str | None = None
    trigger: TriggerName | None = None
    threshold: int | None = None
    keywords: list[str] | None = Field(None, max_length=100)
    location_id: int | None = None
    touchpoint_id: int | None = None
    survey_id: int | None = None
    priority: PriorityName | None = None
    position: int | None = Field(None, ge=0, le=100000)
    is_active: bool | None = None


class RoutingRuleOut(Schema):
    id: int
    location_id: int | None
    touchpoint_id: int | None
    topic: str
    owner_id: int
    position: int
    created_at: datetime


class RoutingRuleCreate(Schema):
    owner_id: int
    location_id: int | None = None
    touchpoint_id: int | None = None
    topic: str = Field("", max_length=80)
    position: int = Field(0, ge=0, le=100000)


class SlaPolicyOut(Schema):
    priority: str
    acknowledge_hours: int
    resolve_hours: int
    is_default: bool = Field(description="True: the built-in default, no policy set")


class SlaPolicyIn(Schema):
    acknowledge_hours: int = Field(ge=1, le=2000)
    resolve_hours: int = Field(ge=1, le=2000)


# --- The closed-loop report ---


class ScoreOut(Schema):
    value: float | None
    n: int
    ci_low: float | None
    ci_high: float | None


class TimesOut(Schema):
    """Kaplan–Meier: cases still waiting are censored, never counted as 0."""

    cases: int
    done: int
    waiting: int
    median_hours: float | None
    p90_hours: float | None
    median_business_hours: float | None
    p90_business_hours: float | None


class LoadRowOut(Schema):
    id: int | None
    label: str
    open: int
    overdue: int
    opened: int
    resolved: int


class RootCauseOut(Schema):
    root_cause: str
    label: str
    cases: int


class PlaybookOutcomeOut(Schema):
    segment: str
    runs: int
    sent: int
    handed: int
    skipped: int
    failed: int
    clicked: int
    completed: int
    coupons_issued: int
    coupons_redeemed: int
    next_responses: int
    next_promoters: int


class CaseReportOut(Schema):
    since: datetime
    until: datetime
    opened: int
    open_now: int
    overdue_now: int
    by_location: list[LoadRowOut]
    by_owner: list[LoadRowOut]
    time_to_acknowledge: TimesOut | None
    time_to_resolve: TimesOut | None
    resurveys_sent: int
    resurveys_answered: int
    recovered: int
    recovery_rate: ScoreOut = Field(description="% won back of answered re-surveys (Wilson)")
    root_causes: list[RootCauseOut]
    without_root_cause: int
    playbook_outcomes: list[PlaybookOutcomeOut]
