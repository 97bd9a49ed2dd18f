from django.urls import reverse

from opencx.platform.roles import Role
from opencx.ui.brand_views import SESSION_KEY
from tests.factories import MembershipFactory


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_database_and_migrations(client, db):
    body = client.get("/readyz").json()
    assert body == {"status": "ok", "database": "ok", "pending_migrations": 0}


def test_home_sends_a_member_to_their_brand(client, brand, owner):
    client.force_login(owner)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("insights:overview", args=[brand.slug])


def test_home_without_brand_explains_what_to_do(client, user):
    client.force_login(user)
    assert b"not a member of any brand" in client.get(reverse("home")).content


def test_anonymous_visitors_are_sent_to_login(client, brand):
    response = client.get(reverse("insights:overview", args=[brand.slug]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_switching_location_narrows_the_overview(client, brand, owner, store):
    client.force_login(owner)
    url = reverse("ui:switch-scope", args=[brand.slug])

    response = client.post(url, {"location": store.pk, "next": "/b/bottega/customers/"})

    assert response.status_code == 302 and response["Location"] == "/b/bottega/customers/"
    assert client.session[SESSION_KEY.format(brand=brand.pk)] == store.pk
    page = client.get(reverse("insights:overview", args=[brand.slug]))
    assert page.context["current_location"] == store


def test_switch_refuses_an_outside_redirect_and_a_foreign_location(
    client, brand, owner, other_brand
):
    from tests.factories import LocationFactory

    client.force_login(owner)
    url = reverse("ui:switch-scope", args=[brand.slug])
    response = client.post(url, {"location": "", "next": "https://evil.example/"})
    assert response["Location"] == reverse("insights:overview", args=[brand.slug])

    foreign = LocationFactory(brand=other_brand)
    assert client.post(url, {"location": foreign.pk}).status_code == 404


def test_switching_brand_goes_to_that_brands_overview(client, brand, owner, other_brand):
    MembershipFactory(user=owner, brand=other_brand, role=Role.VIEWER)
    client.force_login(owner)
    response = client.post(
        reverse("ui:switch-scope", args=[brand.slug]), {"brand": other_brand.slug}
    )
    assert response["Location"] == reverse("insights:overview", args=[other_brand.slug])
