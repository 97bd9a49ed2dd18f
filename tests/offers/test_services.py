"""Writes of playbooks, pools and codes: what is allowed, and hostile input refused whole."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from opencx.offers import services
from opencx.offers.models import Coupon, Playbook, PlaybookRun
from opencx.platform.errors import AppError, Conflict, Forbidden, NotFound
from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from tests.factories import ContactFactory, FeedbackItemFactory, IdentityFactory, ResponseFactory

from .factories import CouponFactory, CouponPoolFactory, PlaybookFactory, PlaybookRunFactory


@pytest.fixture
def pool(brand):
    return CouponPoolFactory(brand=brand, valid_days=30)


# --- Playbooks ---


def test_a_brand_default_and_a_location_override_for_the_same_segment(owner_actor, brand, store):
    default = services.playbook_create(actor=owner_actor, segment="promoter", action="review")
    override = services.playbook_create(
        actor=owner_actor,
        segment="promoter",
        action="referral",
        location=store,
        email_body={"it": "Ciao {name} <b>!</b>", "en": "  "},
    )
    assert default.location is None and override.location == store
    assert override.email_body == {"it": "Ciao {name} !"}  # tags stripped, blank dropped
    assert AuditEvent.objects.filter(action="playbook.create").count() == 2


def test_one_playbook_per_place_and_segment_the_brand_default_included(owner_actor, store):
    services.playbook_create(
        actor=owner_actor,
        segment="passive",
        action="coupon",
        coupon_pool=CouponPoolFactory(brand=owner_actor.brand),
    )
    services.playbook_create(actor=owner_actor, segment="promoter", action="review")
    with pytest.raises(Conflict) as caught:
        services.playbook_create(actor=owner_actor, segment="promoter", action="referral")
    assert caught.value.field == "segment"
    services.playbook_create(actor=owner_actor, segment="promoter", action="review", location=store)
    with pytest.raises(Conflict):
        services.playbook_create(
            actor=owner_actor, segment="promoter", action="review", location=store
        )
    assert Playbook.objects.count() == 3


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"segment": "fan", "action": "review"}, "segment"),
        ({"segment": "passive", "action": "review"}, "action"),
        ({"segment": "detractor", "action": "coupon"}, "action"),
        ({"segment": "passive", "action": "coupon"}, "coupon_pool"),
        ({"segment": "promoter", "action": "review", "email_body": {"<x>": "hi"}}, "email_body"),
        (
            {"segment": "promoter", "action": "review", "email_body": {"en": "x" * 5001}},
            "email_body",
        ),
        ({"segment": "promoter", "action": "review", "email_subject": ["en"]}, "email_subject"),
    ],
)
def test_a_playbook_that_does_not_fit_is_refused_naming_the_field(owner_actor, fields, field):
    with pytest.raises(AppError) as caught:
        services.playbook_create(actor=owner_actor, **fields)
    assert caught.value.field == field
    assert not Playbook.objects.exists()


def test_who_may_set_playbooks(make_actor, region, store, sibling_store, other_brand):
    scoped = make_actor(Role.CX_MANAGER, region)
    services.playbook_create(actor=scoped, segment="promoter", action="review", location=store)
    with pytest.raises(Forbidden):  # the brand default is for brand-wide members
        services.playbook_create(actor=scoped, segment="promoter", action="review")
    store_cx = make_actor(Role.CX_MANAGER, store)
    with pytest.raises(NotFound):
        services.playbook_create(
            actor=store_cx, segment="promoter", action="review", location=sibling_store
        )
    with pytest.raises(Forbidden):
        services.playbook_create(
            actor=make_actor(Role.LOCATION_MANAGER, store),
            segment="promoter",
            action="review",
            location=store,
        )
    with pytest.raises(NotFound):
        services.playbook_create(
            actor=make_actor(Role.OWNER),
            segment="passive",
            action="coupon",
            coupon_pool=CouponPoolFactory(brand=other_brand),
        )


def test_updating_a_playbook_changes_its_action_and_pool_together(owner_actor, brand, pool):
    playbook = PlaybookFactory(brand=brand, segment="promoter", action="review")
    services.playbook_update(
        actor=owner_actor, playbook=playbook, action="referral", is_active=False
    )
    playbook.refresh_from_db()
    assert playbook.action == "referral" and not playbook.is_active
    with pytest.raises(AppError) as caught:
        services.playbook_update(actor=owner_actor, playbook=playbook, segment="passive")
    assert caught.value.field == "segment"
    passive = PlaybookFactory(brand=brand, segment="passive", action="coupon", coupon_pool=pool)
    with pytest.raises(AppError) as caught:
        services.playbook_update(actor=owner_actor, playbook=passive, coupon_pool=None)
    assert caught.value.field == "coupon_pool"


# --- Pools and codes ---


def test_generated_codes_are_unique_readable_and_prefixed(owner_actor, pool):
    assert (
        services.coupons_generate(actor=owner_actor, pool=pool, count=300, prefix="spring-") == 300
    )
    codes = list(Coupon.objects.values_list("code", flat=True))
    assert len(set(codes)) == 300
    for code in codes:
        assert code.startswith("SPRING-") and len(code) == 15
        assert not set(code[7:]) & set("01OIL")


@pytest.mark.parametrize("count", [0, -1, 10_001, "12x", "²", True])
def test_generating_a_bad_number_of_codes_is_refused(owner_actor, pool, count):
    with pytest.raises(AppError) as caught:
        services.coupons_generate(actor=owner_actor, pool=pool, count=count)
    assert caught.value.field == "count"
    assert not Coupon.objects.exists()


def test_uploaded_codes_with_a_header_and_expiry(owner_actor, brand, pool):
    text = "code,expires_on\nabc-123\n\nXYZ.789 , 2026-12-31\n"
    assert services.coupons_upload(actor=owner_actor, pool=pool, text=text) == 2
    first, second = Coupon.objects.order_by("code")
    assert (first.code, first.expires_at) == ("ABC-123", None)
    assert second.code == "XYZ.789"
    # The end of 31 December in the brand's zone (UTC here).
    assert second.expires_at == datetime(2027, 1, 1, tzinfo=UTC)


def test_an_upload_with_errors_names_every_line_and_stores_nothing(owner_actor, brand, pool):
    CouponFactory(pool=CouponPoolFactory(brand=brand), code="TAKEN1")
    text = "\n".join(
        [
            "GOOD01",  # 1
            "no spaces allowed",  # 2
            "GOOD02,31/12/2026",  # 3
            "good01",  # 4: repeats line 1 (codes are upper-cased)
            "TAKEN1",  # 5
            "AB1234,2026-01-01,extra",  # 6
            "<script>",  # 7
        ]
    )
    with pytest.raises(AppError) as caught:
        services.coupons_upload(actor=owner_actor, pool=pool, text=text)
    message = caught.value.message
    assert message.startswith("Nothing was stored: 6 errors")
    for fragment in (
        "line 2: 'no spaces allowed' is not a code",
        "line 3: '31/12/2026' is not a date",
        "line 4: GOOD01 repeats line 1",
        "line 5: TAKEN1 is already a code of this brand",
        "line 6: expected code[,expires_on], got 3 columns",
        "line 7: '<script>' is not a code",
    ):
        assert fragment in message
    assert message.index("line 2") < message.index("line 5") < message.index("line 7")
    assert caught.value.field == "file"
    assert Coupon.objects.filter(pool=pool).count() == 0


@pytest.mark.parametrize("text", ["", "code\n", "\x00\x01binary"])
def test_an_empty_or_binary_upload_is_refused(owner_actor, pool, text):
    with pytest.raises(AppError):
        services.coupons_upload(actor=owner_actor, pool=pool, text=text)


def test_lower_roles_cannot_touch_pools(make_actor, pool):
    viewer = make_actor(Role.VIEWER)
    with pytest.raises(Forbidden):
        services.coupon_pool_create(actor=viewer, name="x", offer="y")
    with pytest.raises(Forbidden):
        services.coupons_generate(actor=viewer, pool=pool, count=1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "", "offer": "x"}, "name"),
        ({"name": "x", "offer": " "}, "offer"),
        ({"name": "x", "offer": "y", "valid_days": 0}, "valid_days"),
        ({"name": "x", "offer": "y", "valid_days": 4000}, "valid_days"),
    ],
)
def test_a_pool_needs_a_name_an_offer_and_sane_validity(owner_actor, fields, field):
    with pytest.raises(AppError) as caught:
        services.coupon_pool_create(actor=owner_actor, **fields)
    assert caught.value.field == field


# --- Redemption ---


def _issued(pool, code, *, store, expires_in=timedelta(days=10), **kwargs):
    now = timezone.now()
    return CouponFactory(
        pool=pool,
        code=code,
        issued_at=now - timedelta(days=1),
        issued_location=store,
        expires_at=now + expires_in if expires_in is not None else None,
        **kwargs,
    )


def test_redeeming_twice_keeps_the_first_redemption(owner_actor, pool, store):
    _issued(pool, "KEEP01", store=store)
    first = services.coupon_redeem(
        actor=owner_actor, code="keep01", location=store, reference="R-1"
    )
    again = services.coupon_redeem(actor=owner_actor, code="KEEP01", reference="R-2")
    assert first.newly and not again.newly
    assert again.coupon.redeemed_at == first.coupon.redeemed_at
    assert again.coupon.redemption_ref == "R-1" and again.coupon.redeemed_location == store


def test_an_unsent_or_expired_code_cannot_be_redeemed(owner_actor, pool, store):
    CouponFactory(pool=pool, code="FRESH1")
    _issued(pool, "OLD001", store=store, expires_in=-timedelta(hours=1))
    with pytest.raises(Conflict) as caught:
        services.coupon_redeem(actor=owner_actor, code="FRESH1")
    assert caught.value.code == "not_issued"
    with pytest.raises(Conflict) as caught:
        services.coupon_redeem(actor=owner_actor, code="OLD001")
    assert caught.value.code == "expired"
    with pytest.raises(NotFound):
        services.coupon_redeem(actor=owner_actor, code="NOPE")


def test_a_location_manager_redeems_only_codes_sent_from_their_subtree(
    make_actor, pool, store, sibling_store
):
    _issued(pool, "MINE01", store=store)
    _issued(pool, "THEIRS", store=sibling_store)
    scoped = make_actor(Role.CX_MANAGER, store)
    assert services.coupon_redeem(actor=scoped, code="MINE01").newly
    with pytest.raises(NotFound):
        services.coupon_redeem(actor=scoped, code="THEIRS")


def test_importing_redemptions(owner_actor, brand, pool, store):
    brand.timezone = "Europe/Rome"
    brand.save()
    _issued(pool, "IMP001", store=store)
    _issued(pool, "IMP002", store=store)
    _issued(pool, "IMP003", store=store, redeemed_at=timezone.now() - timedelta(hours=2))
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    text = f"code,redeemed_at,location\nimp001,{yesterday}T10:00,milano\nIMP002\nIMP003\nIMP001\n"
    result = services.redemptions_import(actor=owner_actor, text=text)
    assert (result.redeemed, result.already) == (2, 1)
    first = Coupon.objects.get(code="IMP001")
    assert first.redeemed_location == store
    assert first.redeemed_at.astimezone(timezone.get_default_timezone()).hour in {
        8,
        9,
    }  # 10:00 Rome
    again = services.redemptions_import(actor=owner_actor, text=text)
    assert (again.redeemed, again.already) == (0, 3)


def test_a_redemption_import_with_errors_stores_nothing(owner_actor, pool, store):
    _issued(pool, "OK0001", store=store)
    CouponFactory(pool=pool, code="UNSENT")
    _issued(pool, "GONE01", store=store, expires_in=-timedelta(days=1))
    future = (timezone.now() + timedelta(days=3)).date().isoformat()
    text = "\n".join(
        [
            "OK0001",
            "UNSENT",
            "GONE01",
            "WHO000",
            f"OK0001,{future}",
            "OK0001,yesterday",
            "OK0001,,atlantis",
        ]
    )
    with pytest.raises(AppError) as caught:
        services.redemptions_import(actor=owner_actor, text=text)
    message = caught.value.message
    for fragment in (
        "line 2: UNSENT has not been sent",
        "line 3: GONE01 expired",
        "line 4: WHO000 is not a code of this brand",
        "line 5: ",
        "line 6: 'yesterday' is not a date",
        "line 7: 'atlantis' is not one of your locations",
    ):
        assert fragment in message
    assert "line 1:" not in message
    assert not Coupon.objects.filter(redeemed_at__isnull=False).exists()


# --- Runs: referral and review completion ---


def test_a_referral_matches_or_adds_the_friend_and_completes_the_run_once(brand, store):
    promoter = ContactFactory(brand=brand)
    IdentityFactory(contact=promoter, value="ada@example.test")
    run = PlaybookRunFactory(
        playbook=PlaybookFactory(brand=brand, action="referral"),
        response=ResponseFactory(survey__brand=brand, location=store, contact=promoter),
    )
    with pytest.raises(AppError) as caught:
        services.referral_complete(run=run, name="Ada", email="ADA@example.test")
    assert caught.value.field == "email"
    with pytest.raises(AppError) as caught:
        services.referral_complete(run=run, name="<b></b>", email="bo@example.test")
    assert caught.value.field == "name"

    friend = services.referral_complete(
        run=run, name=" Bo  <i>Rossi</i> ", email="Bo@Example.test", consent=True
    )
    assert (friend.name, friend.consent_email, friend.home_location) == ("Bo Rossi", True, store)
    assert friend.identities.get().value == "bo@example.test"
    run.refresh_from_db()
    assert run.referred_contact == friend and run.completed_at and run.clicked_at
    second = services.referral_complete(run=run, name="Cy", email="cy@example.test")
    run.refresh_from_db()
    assert run.referred_contact == friend and second != friend


def test_a_review_from_the_same_contact_after_the_click_completes_the_run(brand, store):
    contact = ContactFactory(brand=brand)
    clicked = datetime(2026, 5, 1, 12, tzinfo=UTC)
    run = PlaybookRunFactory(
        playbook=PlaybookFactory(brand=brand, action="review"),
        response=ResponseFactory(survey__brand=brand, location=store, contact=contact),
        clicked_at=clicked,
    )
    not_clicked = PlaybookRunFactory(
        playbook=run.playbook,
        response=ResponseFactory(survey__brand=brand, location=store, contact=contact),
    )
    FeedbackItemFactory(
        brand=brand, location=store, contact=contact, occurred_at=clicked - timedelta(days=3)
    )
    FeedbackItemFactory(
        brand=brand,
        location=store,
        contact=ContactFactory(brand=brand),
        occurred_at=clicked + timedelta(hours=1),
    )
    assert services.review_completions_match() == 0

    FeedbackItemFactory(
        brand=brand, location=store, contact=contact, occurred_at=clicked + timedelta(hours=5)
    )
    assert services.review_completions_match(brand_id=brand.pk) == 1
    assert services.review_completions_match() == 0
    run.refresh_from_db()
    assert run.completed_at == clicked + timedelta(hours=5)
    assert PlaybookRun.objects.get(pk=not_clicked.pk).completed_at is None
