"""API routes of NPS-segment playbooks, coupon pools, coupon redemption and outcomes."""

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from django.utils import timezone
from ninja import Router, Status

from opencx.api.errors import READ_ERRORS, WRITE_ERRORS
from opencx.api.pagination import LimitOffset, paginate
from opencx.platform.api import actor_of
from opencx.platform.roles import Capability
from opencx.platform.selectors import location_get

from . import selectors, services
from .schemas import (
    CouponGenerate,
    CouponGenerated,
    CouponPoolCreate,
    CouponPoolOut,
    CouponRedeem,
    CouponRedeemed,
    OutcomeOut,
    PlaybookCreate,
    PlaybookOut,
    PlaybookPatch,
)

router = Router(tags=["playbooks"])


@router.get("/brands/{slug}/playbooks", response={200: list[PlaybookOut], **READ_ERRORS})
@paginate(LimitOffset)
def playbook_list(request, slug: str, location: int | None = None):
    """The brand's default playbooks and the overrides within the caller's reach, by segment;
    `location` keeps those that apply to its subtree."""
    actor = actor_of(request, slug)
    place = location_get(actor, pk=location) if location is not None else None
    return selectors.playbook_list(actor, location=place)


@router.post("/brands/{slug}/playbooks", response={201: PlaybookOut, **WRITE_ERRORS})
def playbook_create(request, slug: str, payload: PlaybookCreate):
    """A playbook for a segment, brand-wide (`location_id` null) or for a location and
    everything under it (the most specific applies). One per place and segment: 409."""
    actor = actor_of(request, slug)
    actor.require(Capability.MANAGE_FEEDBACK)
    location = (
        location_get(actor, pk=payload.location_id) if payload.location_id is not None else None
    )
    pool = (
        selectors.coupon_pool_get(actor, pk=payload.coupon_pool_id)
        if payload.coupon_pool_id is not None
        else None
    )
    playbook = services.playbook_create(
        actor=actor,
        segment=payload.segment,
        action=payload.action,
        location=location,
        is_active=payload.is_active,
        email_subject=payload.email_subject,
        email_body=payload.email_body,
        coupon_pool=pool,
    )
    return Status(201, playbook)


@router.get("/brands/{slug}/playbooks/{playbook_id}", response={200: PlaybookOut, **READ_ERRORS})
def playbook_get(request, slug: str, playbook_id: int):
    return selectors.playbook_get(actor_of(request, slug), pk=playbook_id)


@router.patch("/brands/{slug}/playbooks/{playbook_id}", response={200: PlaybookOut, **WRITE_ERRORS})
def playbook_update(request, slug: str, playbook_id: int, payload: PlaybookPatch):
    """Change the action, texts, pool or whether it is active (fields left out stay)."""
    actor = actor_of(request, slug)
    actor.require(Capability.MANAGE_FEEDBACK)
    playbook = selectors.playbook_get(actor, pk=playbook_id)
    fields = payload.model_dump(exclude_unset=True)
    if "coupon_pool_id" in fields:
        pool_id = fields.pop("coupon_pool_id")
        fields["coupon_pool"] = (
            selectors.coupon_pool_get(actor, pk=pool_id) if pool_id is not None else None
        )
    for name in ("action", "is_active", "email_subject", "email_body"):
        if fields.get(name, "") is None:
            fields.pop(name)
    return services.playbook_update(actor=actor, playbook=playbook, **fields)


def _pool_out(pool, counts) -> dict:
    return {
        "id": pool.pk,
        "name": pool.name,
        "offer": pool.offer,
        "valid_days": pool.valid_days,
        "created_at": pool.created_at,
        "available": counts.available,
        "issued": counts.issued,
        "redeemed": counts.redeemed,
        "expired": counts.expired,
    }


@router.get("/brands/{slug}/coupon-pools", response={200: list[CouponPoolOut], **READ_ERRORS})
@paginate(LimitOffset)
def coupon_pool_list(request, slug: str):
    """The brand's coupon pools with their codes counted (pools are brand-level)."""
    actor = actor_of(request, slug)
    pools = list(selectors.coupon_pools_of(actor))
    counts = selectors.pool_counts(actor, pools=pools)
    return [_pool_out(pool, counts[pool.pk]) for pool in pools]


@router.post("/brands/{slug}/coupon-pools", response={201: CouponPoolOut, **WRITE_ERRORS})
def coupon_pool_create(request, slug: str, payload: CouponPoolCreate):
    actor = actor_of(request, slug)
    actor.require(Capability.MANAGE_FEEDBACK)
    pool = services.coupon_pool_create(
        actor=actor, name=payload.name, offer=payload.offer, valid_days=payload.valid_days
    )
    return Status(201, _pool_out(pool, selectors.PoolCounts()))


@router.post(
    "/brands/{slug}/coupon-pools/{pool_id}/generate",
    response={201: CouponGenerated, **WRITE_ERRORS},
)
def coupon_generate(request, slug: str, pool_id: int, payload: CouponGenerate):
    """Add `count` random single-use codes (no look-alike characters) to the pool."""
    actor = actor_of(request, slug)
    actor.require(Capability.MANAGE_FEEDBACK)
    pool = selectors.coupon_pool_get(actor, pk=pool_id)
    added = services.coupons_generate(
        actor=actor, pool=pool, count=payload.count, prefix=payload.prefix, length=payload.length
    )
    return Status(201, {"added": added})


@router.post("/brands/{slug}/coupons/{code}/redeem", response={200: CouponRedeemed, **WRITE_ERRORS})
def coupon_redeem(request, slug: str, code: str, payload: CouponRedeem):
    """Record that a code sent to a customer was used (body may be `{}`).

    Idempotent: redeeming again answers 200 with the first redemption kept and
    `newly_redeemed` false. A code never sent is 409 `not_issued`; past its expiry, 409
    `expired`; not the brand's (or outside the caller's reach), 404.
    """
    actor = actor_of(request, slug)
    actor.require(Capability.MANAGE_FEEDBACK)
    location = (
        location_get(actor, pk=payload.location_id) if payload.location_id is not None else None
    )
    result = services.coupon_redeem(
        actor=actor,
        code=code,
        redeemed_at=payload.redeemed_at,
        location=location,
        reference=payload.reference,
    )
    coupon = result.coupon
    return {
        "code": coupon.code,
        "pool_id": coupon.pool_id,
        "issued_at": coupon.issued_at,
        "expires_at": coupon.expires_at,
        "redeemed_at": coupon.redeemed_at,
        "redeemed_location_id": coupon.redeemed_location_id,
        "reference": coupon.redemption_ref,
        "newly_redeemed": result.newly,
    }


def _aware(moment: datetime | None, zone: str) -> datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    try:
        return timezone.make_aware(moment, ZoneInfo(zone))
    except (KeyError, ValueError):
        return timezone.make_aware(moment, ZoneInfo("UTC"))


def _rate(rate) -> dict:
    return {"count": rate.count, "n": rate.n, "pct": rate.pct}


@router.get("/brands/{slug}/playbook-outcomes", response={200: list[OutcomeOut], **READ_ERRORS})
def playbook_outcomes(
    request,
    slug: str,
    location: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    by: Literal["playbook", "location"] = "playbook",
):
    """What each playbook achieved for the responses in the caller's reach (`location`: its
    subtree) whose playbook ran in [since, until): sent, skipped (with reasons), clicks,
    completions, coupons sent and redeemed, and where the customer's next NPS response fell.
    Every share comes with its base `n`. `by=location` breaks each playbook down by the
    responses' location."""
    actor = actor_of(request, slug)
    place = location_get(actor, pk=location) if location is not None else None
    rows = selectors.playbook_outcomes(
        actor,
        location=place,
        since=_aware(since, actor.brand.timezone),
        until=_aware(until, actor.brand.timezone),
        by_location=by == "location",
    )
    return [
        {
            **{
                name: getattr(row, name)
                for name in (
                    "playbook_id",
                    "segment",
                    "action",
                    "scope",
                    "location_id",
                    "location_name",
                    "runs",
                    "sent",
                    "skipped",
                    "failed",
                    "handed",
                    "skip_reasons",
                    "clicked",
                    "completed",
                    "coupons_issued",
                    "coupons_redeemed",
                    "next_n",
                )
            },
            "click_rate": _rate(row.click_rate),
            "conversion": _rate(row.conversion),
            "redemption": _rate(row.redemption),
            "next_promoter": _rate(row.moved_to("promoter")),
            "next_passive": _rate(row.moved_to("passive")),
            "next_detractor": _rate(row.moved_to("detractor")),
        }
        for row in rows
    ]
