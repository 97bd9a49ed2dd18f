"""The "closed loop" figures: open and overdue cases by location and owner, time to acknowledge
and to resolve (Kaplan–Meier, unresolved cases censored, calendar and business hours), the
recovery rate of answered re-surveys (Wilson interval), root causes and playbook outcomes.

Always scoped to the actor (and to `location`'s subtree when given). Cases are few per brand
(one per unhappy customer, not one per response), so these read the case rows directly.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from opencx.analytics.result import Score
from opencx.insights import facade
from opencx.platform.actor import Actor
from opencx.platform.models import Location

from .models import Case
from .selectors import cases_visible_to


@dataclass
class LoadRow:
    """Cases of one location or one owner: open and overdue now, opened and resolved in the
    period."""

    key: int | None
    label: str
    open: int = 0
    overdue: int = 0
    opened: int = 0
    resolved: int = 0


@dataclass(frozen=True)
class RootCauseRow:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class ClosedLoopReport:
    since: datetime
    until: datetime
    now: datetime
    opened: int  # cases opened in [since, until)
    open_now: int
    overdue_now: int
    by_location: list[LoadRow]
    by_owner: list[LoadRow]
    acknowledge: facade.ResolutionTimes | None  # None: no case opened in the period
    resolve: facade.ResolutionTimes | None
    resurveys_sent: int
    resurveys_answered: int
    recovered: int
    recovery: Score  # % won back of the answered re-surveys, with its Wilson interval
    root_causes: list[RootCauseRow] = field(default_factory=list)
    without_root_cause: int = 0  # resolved or closed in the period with no category recorded


def _load_rows(open_rows, period_rows, *, key: str, label_of, unknown: str) -> list[LoadRow]:
    rows: dict = {}
    for row in open_rows:
        entry = rows.setdefault(row[key], LoadRow(key=row[key], label=label_of(row) or unknown))
        entry.open, entry.overdue = row["open"], row["overdue"]
    for row in period_rows:
        entry = rows.setdefault(row[key], LoadRow(key=row[key], label=label_of(row) or unknown))
        entry.opened, entry.resolved = row["opened"], row["resolved"]
    return sorted(rows.values(), key=lambda r: (-r.overdue, -r.open, -r.opened, r.label))


def _owner_label(row) -> str:
    if row["owner_id"] is None:
        return ""
    name = f"{row['owner__first_name'] or ''} {row['owner__last_name'] or ''}".strip()
    return name or row["owner__email"] or ""


def _times(rows) -> facade.ResolutionTimes | None:
    return facade.resolution_times(rows, now=timezone.now()) if rows else None


def closed_loop_report(
    actor: Actor,
    *,
    since: datetime,
    until: datetime,
    location: Location | None = None,
    now: datetime | None = None,
) -> ClosedLoopReport:
    """The closed-loop figures for cases in the actor's reach; "open" and "overdue" are as of
    `now`, everything else is about cases opened in [since, until)."""
    now = now or timezone.now()
    cases = cases_visible_to(actor, location=location)
    open_cases = cases.filter(status__in=Case.OPEN_STATUSES)
    period = cases.filter(opened_at__gte=since, opened_at__lt=until)
    late = Q(due_at__lt=now)
    done = Q(resolved_at__isnull=False) | Q(closed_at__isnull=False)

    def load(fields, label_of, unknown, key):
        open_rows = (
            open_cases.values(*fields)
            .annotate(open=Count("pk"), overdue=Count("pk", filter=late))
            .order_by()
        )
        period_rows = (
            period.values(*fields)
            .annotate(opened=Count("pk"), resolved=Count("pk", filter=done))
            .order_by()
        )
        return _load_rows(open_rows, period_rows, key=key, label_of=label_of, unknown=unknown)

    by_location = load(
        ("location_id", "location__name"), lambda r: r["location__name"], "?", "location_id"
    )
    by_owner = load(
        ("owner_id", "owner__first_name", "owner__last_name", "owner__email"),
        _owner_label,
        "Nobody",
        "owner_id",
    )
    timing = list(
        period.values_list(
            "pk",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "location__timezone",
            "location__opening_hours",
        )
    )
    acknowledge = _times(
        [(pk, opened, acked, tz, hours) for pk, opened, acked, _r, _c, tz, hours in timing]
    )
    # A case closed without a resolution (spam, duplicate) ends its clock when it is closed.
    resolve = _times(
        [
            (pk, opened, resolved or closed, tz, hours)
            for pk, opened, _a, resolved, closed, tz, hours in timing
        ]
    )
    facts = period.aggregate(
        opened=Count("pk"),
        sent=Count("pk", filter=Q(resurvey_invitation__isnull=False)),
        answered=Count("pk", filter=Q(resurvey_score__isnull=False)),
        recovered=Count("pk", filter=Q(resurvey_score__isnull=False, recovered=True)),
        without_root_cause=Count("pk", filter=done & Q(root_cause="")),
    )
    labels = dict(Case.RootCause.choices)
    root_causes = [
        RootCauseRow(
            value=row["root_cause"], label=labels.get(row["root_cause"], "?"), count=row["n"]
        )
        for row in period.exclude(root_cause="")
        .values("root_cause")
        .annotate(n=Count("pk"))
        .order_by("-n", "root_cause")
    ]
    counts_now = open_cases.aggregate(open=Count("pk"), overdue=Count("pk", filter=late))
    return ClosedLoopReport(
        since=since,
        until=until,
        now=now,
        opened=facts["opened"],
        open_now=counts_now["open"],
        overdue_now=counts_now["overdue"],
        by_location=by_location,
        by_owner=by_owner,
        acknowledge=acknowledge,
        resolve=resolve,
        resurveys_sent=facts["sent"],
        resurveys_answered=facts["answered"],
        recovered=facts["recovered"],
        recovery=facade.share_score(n=facts["answered"], satisfied=facts["recovered"]),
        root_causes=root_causes,
        without_root_cause=facts["without_root_cause"],
    )


def playbook_outcomes(
    actor: Actor, *, since: datetime, until: datetime, location: Location | None = None
):
    """The offers app's playbook outcomes for the same scope and period, one row per segment
    (the playbook app owns the figures; the closed-loop page only shows them)."""
    from opencx.offers import selectors as offer_selectors

    outcomes = offer_selectors.playbook_outcomes(actor, location=location, since=since, until=until)
    return offer_selectors.outcome_totals(outcomes)
