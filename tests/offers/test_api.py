"""The playbook API: playbooks, coupon pools, redemption from a shop, outcomes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opencx.offers.models import Coupon, Playbook
from opencx.platform.roles import Role
from opencx.platform.services import api_token_create
from tests.api.conftest import ApiClient, assert_error

from .factories import CouponFactory, CouponPoolFactory, PlaybookFactory, PlaybookRunFactory


def api(user):
    return ApiClient(api_token_create(user=user, name="tests").secret)


def test_playbooks_are_created_listed_and_changed(owner, brand, store):
    client = api(owner)
    pool = CouponPoolFactory(brand=brand)
    created = client.post(
        f"/brands/{brand.slug}/playbooks",
        {
            "segment": "passive",
            "action": "coupon",
            "coupon_pool_id": pool.pk,
            "email_body": {"en": "Here is {code}, {name}."},
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["location_id"] is None and body["coupon_pool_id"] == pool.pk
    override = client.post(
        f"/brands/{brand.slug}/playbooks",
        {"segment": "promoter", "action": "review", "location_id": store.pk},
    )
    assert override.status_code == 201
    assert_error(
        client.post(
            f"/brands/{brand.slug}/playbooks",
            {"segment": "passive", "action": "coupon", "coupon_pool_id": pool.pk},
        ),
        409,
        "conflict",
        "segment",
    )
    assert_error(client.post(f"/brands/{brand.slug}/playbooks", {}), 400, "invalid", "segment")

    listed = client.get(f"/brands/{brand.slug}/playbooks").json()
    assert [item["segment"] for item in listed["items"]] == ["promoter", "passive"]

    patched = client.patch(
        f"/brands/{brand.slug}/playbooks/{override.json()['id']}",
        {"action": "referral", "is_active": False},
    )
    assert patched.status_code == 200
    assert patched.json()["action"] == "referral" and not patched.json()["is_active"]
    assert Playbook.objects.get(pk=override.json()["id"]).email_body == {}


def test_pools_are_created_filled_and_counted(owner, brand):
    client = api(owner)
    created = client.post(
        f"/brands/{brand.slug}/coupon-pools",
        {"name": "Spring", "offer": "10% off your next visit", "valid_days": 30},
    )
    assert created.status_code == 201, created.content
    pool_id = created.json()["id"]
    generated = client.post(
        f"/brands/{brand.slug}/coupon-pools/{pool_id}/generate", {"count": 25, "prefix": "SP"}
    )
    assert generated.status_code == 201 and generated.json() == {"added": 25}
    assert_error(
        client.post(f"/brands/{brand.slug}/coupon-pools/{pool_id}/generate", {"count": 0}),
        400,
        "invalid",
        "count",
    )
    [pool] = client.get(f"/brands/{brand.slug}/coupon-pools").json()["items"]
    assert (pool["available"], pool["issued"], pool["redeemed"]) == (25, 0, 0)


def test_a_shop_redeems_a_code_once_however_often_it_calls(owner, brand, store):
    client = api(owner)
    now = timezone.now()
    pool = CouponPoolFactory(brand=brand)
    CouponFactory(
        pool=pool,
        code="SHOP01",
        issued_at=now,
        issued_location=store,
        expires_at=now + timedelta(days=5),
    )
    CouponFactory(pool=pool, code="UNSENT")
    CouponFactory(
        pool=pool,
        code="LATE01",
        issued_at=now - timedelta(days=40),
        issued_location=store,
        expires_at=now - timedelta(days=10),
    )
    path = f"/brands/{brand.slug}/coupons/{{}}/redeem"

    first = client.post(path.format("shop01"), {"location_id": store.pk, "reference": "R-77"})
    assert first.status_code == 200, first.content
    assert first.json()["newly_redeemed"] and first.json()["redeemed_location_id"] == store.pk
    again = client.post(path.format("SHOP01"), {"reference": "R-78"})
    assert again.status_code == 200
    assert not again.json()["newly_redeemed"]
    assert again.json()["redeemed_at"] == first.json()["redeemed_at"]
    assert again.json()["reference"] == "R-77"

    assert_error(client.post(path.format("UNSENT"), {}), 409, "not_issued", "code")
    assert_error(client.post(path.format("LATE01"), {}), 409, "expired", "code")
    assert_error(client.post(path.format("NOSUCH"), {}), 404, "not_found")
    future = (now + timedelta(days=1)).isoformat()
    assert_error(
        client.post(path.format("SHOP01"), {"redeemed_at": future}), 400, "invalid", "redeemed_at"
    )
    assert Coupon.objects.filter(redeemed_at__isnull=False).count() == 1


def test_redeeming_needs_the_right_to_manage_feedback(brand, store, make_actor):
    agent = make_actor(Role.AGENT)
    pool = CouponPoolFactory(brand=brand)
    CouponFactory(pool=pool, code="SHOP02", issued_at=timezone.now(), issued_location=store)
    response = api(agent.user).post(f"/brands/{brand.slug}/coupons/SHOP02/redeem", {})
    assert_error(response, 403, "forbidden")


def test_outcomes_show_every_share_with_its_base(owner, brand, store):
    playbook = PlaybookFactory(brand=brand, segment="promoter", action="review")
    PlaybookRunFactory(
        playbook=playbook,
        response__survey__brand=brand,
        response__location=store,
        clicked_at=timezone.now(),
    )
    PlaybookRunFactory(playbook=playbook, response__survey__brand=brand, response__location=store)
    response = api(owner).get(f"/brands/{brand.slug}/playbook-outcomes", {"by": "location"})
    assert response.status_code == 200, response.content
    [row] = response.json()
    assert row["sent"] == 2 and row["location_id"] == store.pk
    assert row["click_rate"] == {"count": 1, "n": 2, "pct": 50.0}
    assert row["conversion"] == {"count": 0, "n": 2, "pct": 0.0}
    assert row["next_promoter"] == {"count": 0, "n": 0, "pct": None}
    assert_error(
        api(owner).get(f"/brands/{brand.slug}/playbook-outcomes", {"by": "x"}), 422, "invalid"
    )


@pytest.mark.parametrize(
    "path",
    ["/brands/{slug}/playbooks", "/brands/{slug}/coupon-pools", "/brands/{slug}/playbook-outcomes"],
)
def test_another_brand_gets_404(brand, stranger, path):
    assert_error(api(stranger).get(path.format(slug=brand.slug)), 404, "not_found")
