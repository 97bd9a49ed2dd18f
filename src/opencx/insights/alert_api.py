"""API routes of brand monitoring: alerts (list, one, acknowledge) and alert rules (CRUD).

Reads start from the actor-scoped selectors of `insights.alerts` (another brand, or an alert
outside the caller's part of it: 404). Acknowledging needs REPLY, rules MANAGE_FEEDBACK, both
checked before the body is validated (`api.auth.requiring`).
"""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Router, Schema, Status

from opencx.api import auth as api_auth
from opencx.api.errors import READ_ERRORS, WRITE_ERRORS
from opencx.api.pagination import LimitOffset, paginate
from opencx.inbox.selectors import channels_visible_to
from opencx.platform.api import actor_of
from opencx.platform.errors import AppError, NotFound
from opencx.platform.roles import Capability
from opencx.platform.selectors import location_get

from . import alerts
from .models import AlertRule

router = Router(tags=["alerts"])

ACKNOWLEDGE = api_auth.requiring(Capability.REPLY)
CONFIGURE = api_auth.requiring(Capability.MANAGE_FEEDBACK)

KindName = Literal["negative_share", "rating_drop", "keyword"]
GroupName = Literal["location", "channel"]
StateName = Literal["", "open", "acknowledged"]


class AlertOut(Schema):
    id: int
    kind: str
    title: str
    rule_id: int | None
    location_id: int | None
    channel_id: int | None
    details: dict = Field(description="The figures: shares or means with n, difference, p-values")
    items: list[int] = Field(description="Ids of the feedback items behind it (at most 100)")
    window_end: date
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None


class AlertRuleOut(Schema):
    id: int
    name: str
    kind: str
    location_id: int | None
    channel_id: int | None
    group_by: str
    keywords: list[str]
    window_days: int
    baseline_days: int
    min_n: int
    min_count: int
    alpha: float
    threshold: float
    is_active: bool
    created_at: datetime


class AlertRuleCreate(Schema):
    name: str = Field(max_length=120)
    kind: KindName
    location_id: int | None = None
    channel_id: int | None = None
    group_by: GroupName = "location"
    keywords: list[str] = Field(default_factory=list, max_length=50)
    window_days: int = 7
    baseline_days: int = 56
    min_n: int | None = None
    min_count: int = 1
    alpha: float = 0.05
    threshold: float | None = None
    is_active: bool = True


class AlertRulePatch(Schema):
    """Only the fields sent change; null location/channel means everywhere."""

    name: str | None = Field(None, max_length=120)
    kind: KindName | None = None
    location_id: int | None = None
    channel_id: int | None = None
    group_by: GroupName | None = None
    keywords: list[str] | None = Field(None, max_length=50)
    window_days: int | None = None
    baseline_days: int | None = None
    min_n: int | None = None
    min_count: int | None = None
    alpha: float | None = None
    threshold: float | None = None
    is_active: bool | None = None


def _location(actor, pk: int):
    try:
        return location_get(actor, pk=pk)
    except NotFound:
        raise NotFound("No such location.", field="location_id") from None


def _channel(actor, pk: int):
    channel = channels_visible_to(actor).filter(pk=pk).first()
    if channel is None:
        raise NotFound("No such channel.", field="channel_id")
    return channel


def _rule_fields(actor, fields: dict) -> dict:
    for name, lookup in (("location_id", _location), ("channel_id", _channel)):
        if name in fields:
            pk = fields.pop(name)
            fields[name.removesuffix("_id")] = lookup(actor, pk) if pk is not None else None
    # A default that depends on the kind is left to the service (min_n, threshold).
    return {
        name: value
        for name, value in fields.items()
        if value is not None or name in {"location", "channel"}
    }


# --- alerts -----------------------------------------------------------------------------------


@router.get("/brands/{slug}/alerts", response={200: list[AlertOut], **READ_ERRORS})
@paginate(LimitOffset)
def alert_list(
    request, slug: str, state: StateName = "", kind: str = "", location: int | None = None
):
    """Alerts in the caller's reach, newest first. `state`: open or acknowledged; `location`:
    that location's subtree."""
    actor = actor_of(request, slug)
    within = _location(actor, location) if location is not None else None
    if kind and kind not in AlertRule.Kind.values:
        raise AppError("Unknown alert kind.", field="kind")
    return alerts.alerts_visible_to(actor, state=state, kind=kind, location=within)


@router.get("/brands/{slug}/alerts/{alert_id}", response={200: AlertOut, **READ_ERRORS})
def alert_detail(request, slug: str, alert_id: int):
    return alerts.alert_get(actor_of(request, slug), pk=alert_id)


@router.post(
    "/brands/{slug}/alerts/{alert_id}/acknowledge",
    response={200: AlertOut, **WRITE_ERRORS},
    auth=ACKNOWLEDGE,
)
def alert_acknowledge(request, slug: str, alert_id: int):
    """Mark the alert handled (the first acknowledgement stays)."""
    actor = actor_of(request, slug)
    return alerts.alert_acknowledge(actor=actor, alert=alerts.alert_get(actor, pk=alert_id))


# --- rules ------------------------------------------------------------------------------------


@router.get("/brands/{slug}/alert-rules", response={200: list[AlertRuleOut], **READ_ERRORS})
@paginate(LimitOffset)
def alert_rule_list(request, slug: str):
    return alerts.alert_rules_of(actor_of(request, slug))


@router.post(
    "/brands/{slug}/alert-rules", response={201: AlertRuleOut, **WRITE_ERRORS}, auth=CONFIGURE
)
def alert_rule_create(request, slug: str, payload: AlertRuleCreate):
    """Add a rule. `min_n` and `threshold` default by kind (negative share: 30 items, any rise;
    rating drop: 20 items, 0.3 stars)."""
    actor = actor_of(request, slug)
    fields = _rule_fields(actor, payload.dict())
    return Status(201, alerts.alert_rule_create(actor=actor, **fields))


@router.get("/brands/{slug}/alert-rules/{rule_id}", response={200: AlertRuleOut, **READ_ERRORS})
def alert_rule_detail(request, slug: str, rule_id: int):
    return alerts.alert_rule_get(actor_of(request, slug), pk=rule_id)


@router.patch(
    "/brands/{slug}/alert-rules/{rule_id}",
    response={200: AlertRuleOut, **WRITE_ERRORS},
    auth=CONFIGURE,
)
def alert_rule_patch(request, slug: str, rule_id: int, payload: AlertRulePatch):
    actor = actor_of(request, slug)
    rule = alerts.alert_rule_get(actor, pk=rule_id)
    fields = payload.dict(exclude_unset=True)
    for name, value in fields.items():
        if value is None and name not in {"location_id", "channel_id"}:
            raise AppError("This cannot be null.", field=name)
    return alerts.alert_rule_update(actor=actor, rule=rule, **_rule_fields(actor, fields))


@router.delete(
    "/brands/{slug}/alert-rules/{rule_id}",
    response={204: None, **WRITE_ERRORS},
    auth=CONFIGURE,
)
def alert_rule_delete(request, slug: str, rule_id: int):
    """Delete a rule; the alerts it raised stay."""
    actor = actor_of(request, slug)
    alerts.alert_rule_delete(actor=actor, rule=alerts.alert_rule_get(actor, pk=rule_id))
    return Status(204, None)
