"""The playbook screens, as members of each role use them."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from opencx.offers.models import Coupon, CouponPool, Playbook
from opencx.platform.roles import Role

from .factories import CouponFactory, CouponPoolFactory, PlaybookFactory, PlaybookRunFactory


def _url(brand, tail=""):
    return f"/b/{brand.slug}/playbooks/{tail}"


def test_the_list_shows_the_brand_default_and_overrides_by_segment(client, owner, brand, store):
    PlaybookFactory(brand=brand, segment="promoter", action="review")
    PlaybookFactory(brand=brand, location=store, segment="promoter", action="referral")
    client.force_login(owner)
    page = client.get(_url(brand)).content.decode()
    assert "Brand default" in page and "Milano Centro" in page
    assert "No playbook: nothing is sent to passives." in page
    assert "New playbook" in page


def test_an_owner_creates_and_edits_a_playbook_through_the_form(client, owner, brand, store):
    pool = CouponPoolFactory(brand=brand)
    client.force_login(owner)
    assert client.get(_url(brand, "new/")).status_code == 200
    response = client.post(
        _url(brand, "new/"),
        {
            "location": str(store.pk),
            "segment": "passive",
            "action": "coupon",
            "coupon_pool": str(pool.pk),
            "is_active": "on",
            "body_en": "Your code: {code}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    playbook = Playbook.objects.get()
    assert playbook.location == store and playbook.email_body == {"en": "Your code: {code}"}

    bad = client.post(
        _url(brand, f"{playbook.pk}/"), {"action": "coupon", "coupon_pool": "", "is_active": "on"}
    )
    assert bad.status_code == 400 and "needs a coupon pool" in bad.content.decode()
    ok = client.post(
        _url(brand, f"{playbook.pk}/"),
        {"action": "coupon", "coupon_pool": str(pool.pk), "segment": "promoter", "location": ""},
    )
    assert ok.status_code == 302
    playbook.refresh_from_db()
    assert not playbook.is_active and playbook.segment == "passive" and playbook.location == store


def test_a_second_playbook_for_the_same_place_is_refused_on_the_form(client, owner, brand):
    PlaybookFactory(brand=brand, segment="promoter", action="review")
    client.force_login(owner)
    response = client.post(
        _url(brand, "new/"), {"location": "", "segment": "promoter", "action": "referral"}
    )
    assert response.status_code == 409
    assert "already has a playbook for promoters" in response.content.decode()


def test_pools_are_created_generated_uploaded_and_counted(client, owner, brand):
    client.force_login(owner)
    assert (
        client.post(
            _url(brand, "pools/"), {"name": "Spring", "offer": "10% off", "valid_days": "30"}
        ).status_code
        == 302
    )
    pool = CouponPool.objects.get()
    assert (
        client.post(_url(brand, f"pools/{pool.pk}/generate/"), {"count": "20"}).status_code == 302
    )
    upload = SimpleUploadedFile("codes.csv", b"code\nSHOP-1\nSHOP-2\n", content_type="text/csv")
    assert client.post(_url(brand, f"pools/{pool.pk}/upload/"), {"file": upload}).status_code == 302
    assert Coupon.objects.filter(pool=pool).count() == 22

    bad = SimpleUploadedFile("codes.csv", b"GOOD-9\nbad code\nSHOP-1\n", content_type="text/csv")
    response = client.post(_url(brand, f"pools/{pool.pk}/upload/"), {"file": bad})
    page = response.content.decode()
    assert response.status_code == 400
    assert "line 2:" in page and "line 3: SHOP-1 is already a code of this brand" in page
    assert Coupon.objects.filter(pool=pool).count() == 22
    assert client.post(_url(brand, f"pools/{pool.pk}/generate/"), {"count": "²"}).status_code == 400
    assert (
        client.post(
            _url(brand, "pools/"), {"name": "x", "offer": "y", "valid_days": "-3"}
        ).status_code
        == 400
    )

    page = client.get(_url(brand, "pools/")).content.decode()
    assert "Spring" in page and ">22<" in page.replace(" ", "")


def test_redemptions_are_imported_from_a_file(client, owner, brand, store):
    pool = CouponPoolFactory(brand=brand)
    CouponFactory(pool=pool, code="RED001", issued_at=timezone.now(), issued_location=store)
    client.force_login(owner)
    bad = SimpleUploadedFile("r.csv", b"RED001\nNOPE01\n")
    response = client.post(_url(brand, "redemptions/"), {"file": bad})
    assert (
        response.status_code == 400 and "line 2: NOPE01 is not a code" in response.content.decode()
    )
    good = SimpleUploadedFile("r.csv", b"RED001,,milano\n")
    assert client.post(_url(brand, "redemptions/"), {"file": good}).status_code == 302
    assert Coupon.objects.get(code="RED001").redeemed_location == store
    assert client.get(_url(brand, "redemptions/")).status_code == 405


def test_outcomes_page_shows_shares_with_their_base(client, owner, brand, store):
    playbook = PlaybookFactory(brand=brand, segment="promoter", action="review")
    for clicked in (True, False, False, False):
        PlaybookRunFactory(
            playbook=playbook,
            response__survey__brand=brand,
            response__location=store,
            clicked_at=timezone.now() if clicked else None,
        )
    client.force_login(owner)
    page = client.get(_url(brand, "outcomes/")).content.decode()
    assert "25.0%" in page and "(1 of n = 4)" in page
    day = (timezone.now() + timedelta(days=2)).date().isoformat()
    later = client.get(_url(brand, "outcomes/"), {"from": day, "by": "location"}).content.decode()
    assert "No playbook has run" in later
    assert client.get(_url(brand, "outcomes/"), {"from": "nonsense"}).status_code == 200


def test_a_location_manager_reads_their_playbooks_but_changes_nothing(
    client, brand, store, sibling_store, make_actor
):
    mine = PlaybookFactory(brand=brand, location=store, segment="promoter")
    theirs = PlaybookFactory(brand=brand, location=sibling_store, segment="promoter")
    manager = make_actor(Role.LOCATION_MANAGER, store)
    client.force_login(manager.user)
    page = client.get(_url(brand))
    assert page.status_code == 200 and "Torino" not in page.content.decode()
    assert client.get(_url(brand, f"{mine.pk}/")).status_code == 200
    assert client.get(_url(brand, f"{theirs.pk}/")).status_code == 404
    assert client.post(_url(brand, f"{mine.pk}/"), {"action": "referral"}).status_code == 403
    assert client.post(_url(brand, "pools/"), {"name": "x", "offer": "y"}).status_code == 403
    assert not CouponPool.objects.exists()
