from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from opencx.contacts import selectors
from opencx.platform.roles import Role
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    FeedbackItemFactory,
    IdentityFactory,
    OrderFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(brand, store, sibling_store, other_brand):
    return {
        "milano": ContactFactory(brand=brand, home_location=store, name="Anna Milano"),
        "torino": ContactFactory(brand=brand, home_location=sibling_store, name="Bruno Torino"),
        "nowhere": ContactFactory(brand=brand, home_location=None, name="Carla Online"),
        "rival": ContactFactory(brand=other_brand, name="Dario Rival"),
    }


def test_brand_wide_members_see_every_contact_of_their_brand(owner_actor, people):
    names = set(selectors.contacts_visible_to(owner_actor).values_list("name", flat=True))
    assert names == {"Anna Milano", "Bruno Torino", "Carla Online"}


def test_location_members_see_contacts_homed_in_their_subtree(make_actor, region, store, people):
    at_store = make_actor(Role.LOCATION_MANAGER, store)
    at_region = make_actor(Role.AGENT, region)

    assert [c.name for c in selectors.contacts_visible_to(at_store)] == ["Anna Milano"]
    assert {c.name for c in selectors.contacts_visible_to(at_region)} == {
        "Anna Milano",
        "Bruno Torino",
    }


def test_contact_list_searches_names_and_identity_values(owner_actor, people):
    IdentityFactory(contact=people["torino"], value="bruno@example.test", is_primary=True)
    IdentityFactory(contact=people["torino"], kind="phone", value="+390111234567")
    IdentityFactory(contact=people["rival"], value="bruno@rival.test")

    by_mail = selectors.contact_list(owner_actor, q="BRUNO@example")
    by_phone = selectors.contact_list(owner_actor, q="0111234")
    by_name = selectors.contact_list(owner_actor, q="carla")

    assert [c.name for c in by_mail] == ["Bruno Torino"]
    assert [c.name for c in by_phone] == ["Bruno Torino"]
    assert [c.name for c in by_name] == ["Carla Online"]
    assert [i.value for i in by_mail[0].ordered_identities][0] == "bruno@example.test"


def test_contact_list_filters_by_country_consent_and_chosen_location(owner_actor, store, people):
    people["milano"].country, people["milano"].consent_email = "IT", True
    people["milano"].save()
    people["torino"].country = "FR"
    people["torino"].save()

    assert [c.name for c in selectors.contact_list(owner_actor, country="it")] == ["Anna Milano"]
    assert [c.name for c in selectors.contact_list(owner_actor, consent="email")] == ["Anna Milano"]
    assert {c.name for c in selectors.contact_list(owner_actor, consent="none")} == {
        "Bruno Torino",
        "Carla Online",
    }
    assert [c.name for c in selectors.contact_list(owner_actor, location=store)] == ["Anna Milano"]
    assert selectors.contact_countries(owner_actor) == ["FR", "IT"]


def test_contact_list_counts_orders_and_finds_the_last_activity(owner_actor, brand, store, people):
    anna = people["milano"]
    long_ago = timezone.now() - timedelta(days=300)
    yesterday = timezone.now() - timedelta(days=1)
    OrderFactory(brand=brand, location=store, contact=anna, placed_at=long_ago)
    OrderFactory(brand=brand, location=store, contact=anna, placed_at=long_ago)
    ResponseFactory(
        survey=SurveyFactory(brand=brand), location=store, contact=anna, created_at=yesterday
    )

    rows = {c.name: c for c in selectors.contact_list(owner_actor)}

    assert rows["Anna Milano"].orders_count == 2
    assert selectors.last_activity(rows["Anna Milano"]) == yesterday
    assert rows["Carla Online"].orders_count == 0
    assert selectors.last_activity(rows["Carla Online"]) is None


def test_timeline_merges_every_source_newest_first(owner_actor, brand, store, people):
    anna = people["milano"]
    now = timezone.now()
    order = OrderFactory(brand=brand, location=store, contact=anna, placed_at=now - timedelta(3))
    response = ResponseFactory(
        survey=SurveyFactory(brand=brand),
        location=store,
        contact=anna,
        score=4,
        comment="Queue too long",
        created_at=now - timedelta(days=1),
    )
    review = FeedbackItemFactory(
        brand=brand, location=store, contact=anna, occurred_at=now - timedelta(days=2)
    )
    chat = ConversationFactory(brand=brand, location=store, contact=anna, created_at=now)
    ResponseFactory(survey=SurveyFactory(brand=brand), location=store)  # someone else

    timeline = selectors.contact_timeline(owner_actor, contact=anna)

    assert [(e.kind, e.item) for e in timeline] == [
        ("conversation", chat),
        ("response", response),
        ("feedback", review),
        ("order", order),
    ]


def test_timeline_is_capped_and_scoped(make_actor, brand, store, sibling_store, people):
    anna = people["milano"]
    now = timezone.now()
    for days in range(5):
        OrderFactory(brand=brand, location=store, contact=anna, placed_at=now - timedelta(days))
    OrderFactory(brand=brand, location=sibling_store, contact=anna, placed_at=now)
    at_store = make_actor(Role.LOCATION_MANAGER, store)

    capped = selectors.contact_timeline(at_store, contact=anna, limit=3)
    everything = selectors.contact_timeline(at_store, contact=anna)

    assert [e.at for e in capped] == [now - timedelta(days) for days in range(3)]
    assert len(everything) == 5  # the order at the sibling store is out of reach


def test_order_summary_totals_per_currency(owner_actor, brand, store, people):
    anna = people["milano"]
    first = timezone.now() - timedelta(days=30)
    last = timezone.now() - timedelta(days=2)
    OrderFactory(brand=brand, location=store, contact=anna, total=Decimal("10.50"), placed_at=first)
    OrderFactory(brand=brand, location=store, contact=anna, total=Decimal("4.50"), placed_at=last)
    OrderFactory(
        brand=brand,
        location=store,
        contact=anna,
        total=Decimal("7"),
        currency="GBP",
        placed_at=last,
    )

    summary = selectors.contact_order_summary(owner_actor, contact=anna)

    assert (summary.count, summary.first_at, summary.last_at) == (3, first, last)
    assert summary.totals == [("EUR", Decimal("15.00")), ("GBP", Decimal("7.00"))]
