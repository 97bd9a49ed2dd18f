"""Reads of playbooks, coupon pools, coupons and playbook outcomes, scoped to an actor.

Playbooks: the brand's defaults and the overrides of the locations an actor covers, plus those of
the locations above their scope (they apply to the actor's stores, so the actor may read them).
Coupon pools are brand-level (every member reads their counts); coupons and runs live at the
location of the response that earned them.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.models import Location
from opencx.platform.selectors import scope_filter
from opencx.surveys.models import Response, Survey

from .models import Coupon, CouponPool, Playbook, PlaybookRun, Segment, segment_of


def playbooks_visible_to(actor: Actor) -> QuerySet[Playbook]:
    qs = Playbook.objects.filter(brand=actor.brand).select_related("location", "coupon_pool")
    if not actor.is_brand_wide:
        qs = qs.filter(
            Q(location__isnull=True)
            | Q(location__path__startswith=actor.scope.path)
            | Q(location__path__in=actor.scope.lineage_paths)
        )
    return qs


def playbook_get(actor: Actor, *, pk: int) -> Playbook:
    playbook = playbooks_visible_to(actor).filter(pk=pk).first()
    if playbook is None:
        raise NotFound("No such playbook.", field="playbook")
    return playbook


def playbook_list(actor: Actor, *, location: Location | None = None) -> list[Playbook]:
    """Playbooks by segment, the brand default before the overrides (in hierarchy order);
    `location` keeps those that apply to its subtree (its ancestors' and its descendants')."""
    qs = playbooks_visible_to(actor)
    if location is not None:
        qs = qs.filter(
            Q(location__isnull=True)
            | Q(location__path__startswith=location.path)
            | Q(location__path__in=location.lineage_paths)
        )
    order = {value: position for position, value in enumerate(Segment.values)}
    return sorted(
        qs, key=lambda p: (order[p.segment], p.location.path if p.location_id else "", p.pk)
    )


def effective_playbook(*, brand_id: int, location: Location, segment: str) -> Playbook | None:
    """The playbook that applies to a response at `location`: the override of the nearest
    location at or above it, else the brand default. An inactive one switches the segment off
    for its subtree (None)."""
    candidates = Playbook.objects.filter(
        Q(location__isnull=True) | Q(location__path__in=location.lineage_paths),
        brand_id=brand_id,
        segment=segment,
    ).select_related("location", "coupon_pool")
    best = max(candidates, key=lambda p: len(p.location.path) if p.location_id else 0, default=None)
    return best if best is not None and best.is_active else None


def coupon_pools_of(actor: Actor) -> QuerySet[CouponPool]:
    return CouponPool.objects.filter(brand=actor.brand)


def coupon_pool_get(actor: Actor, *, pk: int) -> CouponPool:
    pool = coupon_pools_of(actor).filter(pk=pk).first()
    if pool is None:
        raise NotFound("No such coupon pool.", field="coupon_pool")
    return pool


@dataclass(frozen=True)
class PoolCounts:
    total: int = 0
    available: int = 0
    issued: int = 0
    redeemed: int = 0
    expired: int = 0  # issued or not, past their expiry and not redeemed


def pool_counts(actor: Actor, *, pools) -> dict[int, PoolCounts]:
    """Codes of each pool: available to send, sent, redeemed and expired unused."""
    now = timezone.now()
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    rows = (
        Coupon.objects.filter(brand=actor.brand, pool__in=pools)
        .values("pool")
        .annotate(
            total=Count("pk"),
            available=Count("pk", filter=Q(issued_at__isnull=True) & live),
            issued=Count("pk", filter=Q(issued_at__isnull=False)),
            redeemed=Count("pk", filter=Q(redeemed_at__isnull=False)),
            expired=Count("pk", filter=Q(redeemed_at__isnull=True, expires_at__lte=now)),
        )
    )
    counts = defaultdict(PoolCounts)
    for row in rows:
        pool_id = row.pop("pool")
        counts[pool_id] = PoolCounts(**row)
    return counts


def coupons_visible_to(actor: Actor) -> QuerySet[Coupon]:
    """The brand's codes; members with a location scope see only codes sent from their
    subtree (an unsent code belongs to the brand as a whole)."""
    qs = Coupon.objects.filter(brand=actor.brand)
    if not actor.is_brand_wide:
        qs = qs.filter(issued_location__path__startswith=actor.scope.path)
    return qs


def coupon_get(actor: Actor, *, code: str) -> Coupon:
    coupon = coupons_visible_to(actor).filter(code=code.strip().upper()).first()
    if coupon is None:
        raise NotFound("No such coupon code.", field="code")
    return coupon


def runs_visible_to(actor: Actor, *, location: Location | None = None) -> QuerySet[PlaybookRun]:
    qs = PlaybookRun.objects.filter(scope_filter(actor))
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    return qs


# --- Outcomes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A share with its base: `pct` is None when there is nothing to divide by."""

    count: int
    n: int

    @property
    def pct(self) -> float | None:
        return 100.0 * self.count / self.n if self.n else None


@dataclass
class Outcome:
    """What one playbook (or one playbook at one location) achieved."""

    playbook_id: int
    segment: str
    action: str
    scope: str  # the playbook's place ("Brand default" or the location's name)
    location_id: int | None = None  # set when broken down by location
    location_name: str = ""
    runs: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    handed: int = 0
    clicked: int = 0
    completed: int = 0
    coupons_issued: int = 0
    coupons_redeemed: int = 0
    next_n: int = 0  # runs whose contact answered an NPS survey again afterwards
    next_segments: dict[str, int] = field(default_factory=dict)
    skip_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def acted(self) -> int:
        """Runs that reached the customer (sent) or, for detractors, the case team (handed)."""
        return self.sent + self.handed

    @property
    def click_rate(self) -> Rate:
        return Rate(self.clicked, self.sent)

    @property
    def conversion(self) -> Rate:
        """Review or referral completed, of the e-mails sent."""
        return Rate(self.completed, self.sent)

    @property
    def redemption(self) -> Rate:
        return Rate(self.coupons_redeemed, self.coupons_issued)

    def moved_to(self, segment: str) -> Rate:
        """Share of the next responses (after the run) that fell in `segment`."""
        return Rate(self.next_segments.get(segment, 0), self.next_n)


def _next_score() -> Subquery:
    """The score of the contact's next complete NPS response after the run's response."""
    return Subquery(
        Response.objects.filter(
            contact=OuterRef("contact"),
            survey__kind=Survey.Kind.NPS,
            is_partial=False,
            score__isnull=False,
            created_at__gt=OuterRef("response__created_at"),
        )
        .order_by("created_at", "pk")
        .values("score")[:1]
    )


def playbook_outcomes(
    actor: Actor,
    *,
    location: Location | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    by_location: bool = False,
) -> list[Outcome]:
    """Per playbook (and per location of the responses, with `by_location`): runs sent and
    skipped, clicks, completions, coupons issued and redeemed, and where the contact's next NPS
    response fell. Runs are those of responses in the actor's reach (narrowed to `location`'s
    subtree), created in [since, until)."""
    runs = runs_visible_to(actor, location=location)
    if since is not None:
        runs = runs.filter(created_at__gte=since)
    if until is not None:
        runs = runs.filter(created_at__lt=until)
    rows = runs.annotate(next_score=_next_score()).values(
        "playbook_id",
        "playbook__location__name",
        "segment",
        "action",
        "status",
        "skip_reason",
        "location_id",
        "location__name",
        "location__path",
        "clicked_at",
        "completed_at",
        "coupon__issued_at",
        "coupon__redeemed_at",
        "next_score",
    )
    outcomes: dict[tuple, Outcome] = {}
    paths: dict[tuple, str] = {}
    for row in rows:
        key = (row["playbook_id"], row["location_id"] if by_location else None)
        outcome = outcomes.get(key)
        if outcome is None:
            outcome = outcomes[key] = Outcome(
                playbook_id=row["playbook_id"],
                segment=row["segment"],
                action=row["action"],
                scope=row["playbook__location__name"] or "Brand default",
                location_id=row["location_id"] if by_location else None,
                location_name=row["location__name"] if by_location else "",
            )
            paths[key] = row["location__path"] if by_location else ""
        outcome.runs += 1
        status = row["status"]
        if status == PlaybookRun.Status.SKIPPED:
            outcome.skipped += 1
            reason = row["skip_reason"] or "no reason recorded"
            outcome.skip_reasons[reason] = outcome.skip_reasons.get(reason, 0) + 1
        elif status == PlaybookRun.Status.FAILED:
            outcome.failed += 1
        elif status == PlaybookRun.Status.HANDED:
            outcome.handed += 1
        elif status == PlaybookRun.Status.SENT:
            outcome.sent += 1
            outcome.clicked += row["clicked_at"] is not None
            outcome.completed += row["completed_at"] is not None
            outcome.coupons_issued += row["coupon__issued_at"] is not None
            outcome.coupons_redeemed += row["coupon__redeemed_at"] is not None
            if row["next_score"] is not None:
                _count_next(outcome, row["next_score"])
        if status == PlaybookRun.Status.HANDED and row["next_score"] is not None:
            _count_next(outcome, row["next_score"])
    order = {value: position for position, value in enumerate(Segment.values)}
    return sorted(
        outcomes.values(),
        key=lambda o: (
            order[o.segment],
            o.scope != "Brand default",
            o.scope,
            paths[(o.playbook_id, o.location_id)],
        ),
    )


def _count_next(outcome: Outcome, score: int) -> None:
    outcome.next_n += 1
    segment = segment_of(score)
    outcome.next_segments[segment] = outcome.next_segments.get(segment, 0) + 1


def outcome_totals(outcomes: list[Outcome]) -> list[Outcome]:
    """One row per segment, summing the playbooks of that segment (actions may differ)."""
    totals: dict[str, Outcome] = {}
    for outcome in outcomes:
        total = totals.setdefault(
            outcome.segment,
            Outcome(playbook_id=0, segment=outcome.segment, action="", scope="All"),
        )
        for name in (
            "runs",
            "sent",
            "skipped",
            "failed",
            "handed",
            "clicked",
            "completed",
            "coupons_issued",
            "coupons_redeemed",
            "next_n",
        ):
            setattr(total, name, getattr(total, name) + getattr(outcome, name))
        for segment, count in outcome.next_segments.items():
            total.next_segments[segment] = total.next_segments.get(segment, 0) + count
        for reason, count in outcome.skip_reasons.items():
            total.skip_reasons[reason] = total.skip_reasons.get(reason, 0) + count
    return [totals[s] for s in Segment.values if s in totals]
