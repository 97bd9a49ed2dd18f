"""Reads: what each member sees, which playbook applies, and the outcome figures."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from opencx.offers import selectors
from opencx.platform.roles import Role
from tests.factories import ContactFactory, LocationFactory, ResponseFactory, SurveyFactory

from .factories import CouponFactory, CouponPoolFactory, PlaybookFactory, PlaybookRunFactory


def test_playbooks_a_scoped_member_sees_are_those_that_apply_to_their_stores(
    brand, region, store, sibling_store, make_actor
):
    default = PlaybookFactory(brand=brand)
    at_region = PlaybookFactory(brand=brand, location=region)
    at_store = PlaybookFactory(brand=brand, location=store)
    at_sibling = PlaybookFactory(brand=brand, location=sibling_store)
    manager = make_actor(Role.LOCATION_MANAGER, store)

    assert set(selectors.playbooks_visible_to(manager)) == {default, at_region, at_store}
    assert at_sibling not in selectors.playbook_list(make_actor(Role.VIEWER, store))
    listed = selectors.playbook_list(make_actor(Role.OWNER), location=sibling_store)
    assert listed == [default, at_region, at_sibling]


def test_the_most_specific_active_playbook_applies(brand, region, store, sibling_store):
    PlaybookFactory(brand=brand, segment="promoter", action="review")
    region_one = PlaybookFactory(brand=brand, location=region, segment="promoter")
    PlaybookFactory(brand=brand, location=sibling_store, segment="promoter", is_active=False)
    deep = LocationFactory(parent=store, name="Corner", code="corner")

    assert selectors.effective_playbook(brand_id=brand.pk, location=deep, segment="promoter") == (
        region_one
    )
    assert (
        selectors.effective_playbook(brand_id=brand.pk, location=sibling_store, segment="promoter")
        is None
    )
    assert (
        selectors.effective_playbook(brand_id=brand.pk, location=store, segment="passive") is None
    )


def test_pool_counts(owner_actor, brand, store):
    pool = CouponPoolFactory(brand=brand)
    now = timezone.now()
    CouponFactory(pool=pool)  # available
    CouponFactory(pool=pool, expires_at=now - timedelta(days=1))  # expired, never sent
    CouponFactory(pool=pool, issued_at=now, issued_location=store)  # sent
    CouponFactory(pool=pool, issued_at=now, redeemed_at=now, issued_location=store)
    CouponFactory(
        pool=pool, issued_at=now - timedelta(days=40), expires_at=now - timedelta(days=10)
    )

    counts = selectors.pool_counts(owner_actor, pools=[pool])[pool.pk]
    assert (counts.total, counts.available, counts.issued, counts.redeemed, counts.expired) == (
        5,
        1,
        3,
        1,
        2,
    )


@pytest.fixture
def dataset(brand, store, sibling_store):
    """Runs at two stores, with what the customers did and answered next."""
    survey = SurveyFactory(brand=brand, kind="nps")
    csat = SurveyFactory(brand=brand, kind="csat")
    start = datetime(2026, 3, 1, 10, tzinfo=UTC)
    pool = CouponPoolFactory(brand=brand)
    review = PlaybookFactory(brand=brand, segment="promoter", action="review")
    coupon = PlaybookFactory(brand=brand, segment="passive", action="coupon", coupon_pool=pool)
    case = PlaybookFactory(brand=brand, segment="detractor", action="case")

    def run(playbook, score, *, at=store, next_scores=(), status="sent", day=0, **fields):
        contact = ContactFactory(brand=brand)
        moment = start + timedelta(days=day)
        response = ResponseFactory(
            survey=survey, location=at, contact=contact, score=score, created_at=moment
        )
        # An earlier answer and a CSAT answer do not count as "next"; partial ones neither.
        ResponseFactory(
            survey=survey,
            location=at,
            contact=contact,
            score=0,
            created_at=moment - timedelta(days=1),
        )
        ResponseFactory(
            survey=csat,
            location=at,
            contact=contact,
            score=1,
            created_at=moment + timedelta(hours=1),
        )
        for offset, next_score in enumerate(next_scores, start=1):
            ResponseFactory(
                survey=survey,
                location=at,
                contact=contact,
                score=next_score,
                created_at=moment + timedelta(days=offset),
            )
        return PlaybookRunFactory(
            playbook=playbook, response=response, status=status, created_at=moment, **fields
        )

    now = timezone.now()
    # Promoters: 4 sent (3 clicked, 1 completed), 1 skipped.
    run(review, 10, clicked_at=now, completed_at=now, next_scores=[9])
    run(review, 9, clicked_at=now)
    run(review, 9, clicked_at=now, at=sibling_store, next_scores=[6])
    run(review, 10)
    run(review, 9, status="skipped", skip_reason="no e-mail consent")
    # Passives: 3 sent with coupons (1 redeemed); next responses: 10, 8 (first one counts).
    for n, (redeemed, next_scores) in enumerate([(True, [10, 2]), (False, [8]), (False, [])]):
        code = CouponFactory(pool=pool, issued_at=now, redeemed_at=now if redeemed else None)
        run(coupon, 8, coupon=code, next_scores=next_scores, day=n)
    run(coupon, 7, status="skipped", skip_reason="the coupon pool is empty")
    # Detractors: 3 handed; next: 7 (passive), 9 (promoter), 3 (detractor).
    for next_score in (7, 9, 3):
        run(case, 2, status="handed", next_scores=[next_score], day=20)
    return {"review": review, "coupon": coupon, "case": case}


def test_outcomes_by_playbook_with_movement_on_the_next_response(owner_actor, dataset):
    rows = {row.segment: row for row in selectors.playbook_outcomes(owner_actor)}

    promoter = rows["promoter"]
    assert (promoter.runs, promoter.sent, promoter.skipped) == (5, 4, 1)
    assert promoter.skip_reasons == {"no e-mail consent": 1}
    assert (promoter.click_rate.count, promoter.click_rate.n) == (3, 4)
    assert promoter.conversion.pct == 25.0 and promoter.conversion.n == 4
    assert promoter.moved_to("promoter").count == 1 and promoter.next_n == 2

    passive = rows["passive"]
    assert (passive.sent, passive.skipped, passive.coupons_issued, passive.coupons_redeemed) == (
        3,
        1,
        3,
        1,
    )
    assert round(passive.redemption.pct, 1) == 33.3
    to_promoter = passive.moved_to("promoter")
    assert (to_promoter.count, to_promoter.n) == (1, 2)  # 10 then 2: the first next counts
    assert passive.moved_to("passive").count == 1

    detractor = rows["detractor"]
    assert (detractor.handed, detractor.sent, detractor.next_n) == (3, 0, 3)
    assert detractor.moved_to("passive").count == 1
    assert detractor.moved_to("promoter").count == 1
    assert detractor.moved_to("detractor").count == 1
    assert detractor.conversion.pct is None  # nothing sent: no share, n = 0


def test_outcomes_by_location_within_reach_and_period(
    owner_actor, make_actor, dataset, store, sibling_store
):
    by_location = selectors.playbook_outcomes(owner_actor, by_location=True)
    promoters = {r.location_id: r for r in by_location if r.segment == "promoter"}
    assert promoters[store.pk].sent == 3 and promoters[sibling_store.pk].sent == 1

    scoped = selectors.playbook_outcomes(make_actor(Role.LOCATION_MANAGER, sibling_store))
    assert [(r.segment, r.sent) for r in scoped] == [("promoter", 1)]

    march_2 = datetime(2026, 3, 2, tzinfo=UTC)
    late = selectors.playbook_outcomes(owner_actor, since=march_2)
    assert {r.segment: r.runs for r in late} == {"passive": 2, "detractor": 3}
    early = selectors.playbook_outcomes(owner_actor, until=march_2)
    assert {r.segment: r.runs for r in early} == {"promoter": 5, "passive": 2}

    totals = selectors.outcome_totals(selectors.playbook_outcomes(owner_actor, by_location=True))
    assert [t.segment for t in totals] == ["promoter", "passive", "detractor"]
    assert totals[0].sent == 4 and totals[0].completed == 1


def test_another_brand_sees_none_of_it(dataset, other_brand, stranger):
    from opencx.platform.actor import Actor

    actor = Actor(user=stranger, brand=other_brand, membership=stranger.memberships.get())
    assert selectors.playbook_outcomes(actor) == []
    assert not selectors.playbooks_visible_to(actor).exists()
    assert not selectors.coupons_visible_to(actor).exists()
