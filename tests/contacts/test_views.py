from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opencx.platform.roles import Role
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    IdentityFactory,
    OrderFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


def list_url(brand, query=""):
    return reverse("contacts:list", args=[brand.slug]) + query


def detail_url(brand, contact):
    return reverse("contacts:detail", args=[brand.slug, contact.pk])


def names_in(page):
    return [row["contact"].name for row in page.context["rows"]]


def customers(brand, location, count, *, survey=None):
    """`count` contacts homed at `location`, each with an identity, an order and a response."""
    survey = survey or SurveyFactory(brand=brand)
    made = []
    for i in range(count):
        contact = ContactFactory(brand=brand, home_location=location, name=f"Customer {i:03}")
        IdentityFactory(contact=contact, is_primary=True)
        OrderFactory(brand=brand, location=location, contact=contact)
        ResponseFactory(survey=survey, location=location, contact=contact)
        made.append(contact)
    return made


def test_owner_searches_customers_by_email_identity(client, brand, owner, store):
    anna = ContactFactory(brand=brand, home_location=store, name="Anna Rossi")
    IdentityFactory(contact=anna, value="anna.rossi@example.test", is_primary=True)
    IdentityFactory(contact=ContactFactory(brand=brand, name="Bruno"), value="bruno@example.test")
    client.force_login(owner)

    page = client.get(list_url(brand, "?q=anna.rossi@"))

    assert page.status_code == 200
    assert names_in(page) == ["Anna Rossi"]
    html = page.content.decode()
    assert "anna.rossi@example.test" in html
    assert detail_url(brand, anna) in html
    assert 'hx-get="' + list_url(brand) in html  # live search is wired
    assert "<html" in html


def test_htmx_search_returns_only_the_results_partial(client, brand, owner, store):
    ContactFactory(brand=brand, home_location=store, name="Anna Rossi")
    ContactFactory(brand=brand, home_location=store, name="Bruno Bianchi")
    client.force_login(owner)

    page = client.get(list_url(brand, "?q=bruno"), headers={"HX-Request": "true"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "Bruno Bianchi" in html and "Anna Rossi" not in html
    assert "<html" not in html and 'role="search"' not in html


def test_list_paginates_fifty_a_page(client, brand, owner, store):
    for i in range(51):
        ContactFactory(brand=brand, home_location=store, name=f"Customer {i:03}")
    client.force_login(owner)

    first = client.get(list_url(brand))
    second = client.get(list_url(brand, "?page=2"))

    assert len(first.context["rows"]) == 50
    assert names_in(second) == ["Customer 050"]
    assert "page=2" in first.content.decode()


def test_list_filters_by_country_and_consent(client, brand, owner, store):
    ContactFactory(brand=brand, home_location=store, name="Anna", country="IT", consent_sms=True)
    ContactFactory(brand=brand, home_location=store, name="Bea", country="FR", consent_sms=True)
    ContactFactory(brand=brand, home_location=store, name="Carlo", country="IT")
    client.force_login(owner)

    page = client.get(list_url(brand, "?country=IT&consent=sms"))

    assert names_in(page) == ["Anna"]
    assert page.context["countries"] == ["FR", "IT"]


def test_list_query_count_stays_flat_for_fifty_rows(
    client, brand, owner, store, django_assert_max_num_queries
):
    customers(brand, store, 3)
    client.force_login(owner)
    client.get(list_url(brand))
    with CaptureQueriesContext(connection) as few:
        client.get(list_url(brand))
    customers(brand, store, 47)

    with django_assert_max_num_queries(len(few)):
        page = client.get(list_url(brand))

    assert len(page.context["rows"]) == 50
    assert all(row["contact"].orders_count == 1 for row in page.context["rows"])
    assert all(row["identity"] is not None for row in page.context["rows"])


def test_location_manager_sees_only_customers_of_their_subtree(
    client, brand, make_actor, store, sibling_store
):
    mine = ContactFactory(brand=brand, home_location=store, name="Anna Milano")
    theirs = ContactFactory(brand=brand, home_location=sibling_store, name="Bruno Torino")
    brand_level = ContactFactory(brand=brand, home_location=None, name="Carla Online")
    client.force_login(make_actor(Role.LOCATION_MANAGER, store).user)

    page = client.get(list_url(brand))

    assert names_in(page) == ["Anna Milano"]
    assert client.get(detail_url(brand, mine)).status_code == 200
    assert client.get(detail_url(brand, theirs)).status_code == 404
    assert client.get(detail_url(brand, brand_level)).status_code == 404


def test_customer_of_another_brand_is_404(client, brand, owner, other_brand, stranger, store):
    foreign = ContactFactory(brand=other_brand)
    ours = ContactFactory(brand=brand, home_location=store)
    client.force_login(owner)
    assert client.get(detail_url(brand, foreign)).status_code == 404
    client.force_login(stranger)
    assert client.get(list_url(brand)).status_code == 404
    assert client.get(detail_url(brand, ours)).status_code == 404


def test_detail_shows_profile_identities_orders_and_the_timeline(client, brand, owner, store):
    anna = ContactFactory(
        brand=brand, home_location=store, name="Anna Rossi", consent_email=True, birth_year=1984
    )
    IdentityFactory(contact=anna, value="anna@example.test", is_primary=True)
    now = timezone.now()
    OrderFactory(
        brand=brand,
        location=store,
        contact=anna,
        external_id="A-1001",
        total=Decimal("49.90"),
        placed_at=now - timedelta(days=10),
    )
    ResponseFactory(
        survey=SurveyFactory(brand=brand, name="After-visit NPS"),
        location=store,
        contact=anna,
        score=3,
        comment="The fitting rooms were closed",
        created_at=now - timedelta(days=2),
    )
    chat = ConversationFactory(brand=brand, location=store, contact=anna, subject="Refund?")
    client.force_login(owner)

    page = client.get(detail_url(brand, anna))

    html = page.content.decode()
    assert page.status_code == 200
    assert "anna@example.test" in html and "1984" in html
    assert [row["entry"].kind for row in page.context["entries"]] == [
        "conversation",
        "response",
        "order",
    ]
    assert "A-1001" in html and "49.90" in html
    assert "After-visit NPS" in html and "The fitting rooms were closed" in html
    assert page.context["orders"].count == 1
    assert page.context["entries"][0]["url"] == reverse("inbox:detail", args=[brand.slug, chat.pk])
    assert page.context["entries"][0]["url"] in html
