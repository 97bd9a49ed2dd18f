from datetime import UTC, datetime

import pytest
from django.urls import reverse

from opencx.feedback.models import FeedbackItem
from opencx.platform.roles import Role
from tests.factories import BrandFactory, FeedbackItemFactory, LocationFactory

pytestmark = pytest.mark.django_db


def _url(brand, *args):
    name = "feedback:detail" if args else "feedback:list"
    return reverse(name, args=[brand.slug, *args])


def _shown(client, brand, **params):
    return list(client.get(_url(brand), params).context["page"].object_list)


def test_owner_sees_feedback_newest_first_with_stars_and_source(client, brand, owner, store):
    old = FeedbackItemFactory(
        brand=brand, location=store, occurred_at=datetime(2026, 1, 5, tzinfo=UTC)
    )
    new = FeedbackItemFactory(
        brand=brand,
        location=store,
        source="trustpilot",
        author="Giulia R.",
        rating=8,
        rating_scale=10,
        text="Good coffee, slow service at lunch time.",
        occurred_at=datetime(2026, 6, 5, tzinfo=UTC),
    )
    client.force_login(owner)

    page = client.get(_url(brand))

    assert page.status_code == 200
    assert list(page.context["page"].object_list) == [new, old]
    body = page.content.decode()
    assert "★★★★☆" in body  # 8/10 shown as four stars of five
    assert "trustpilot" in body and "Giulia R." in body and "Milano Centro" in body
    assert "Good coffee, slow service" in body


def test_filters_narrow_the_list(client, brand, owner, store, sibling_store):
    review = FeedbackItemFactory(
        brand=brand,
        location=store,
        rating=1,
        text="Rude staff",
        author="Ann",
        occurred_at=datetime(2026, 3, 1, 9, tzinfo=UTC),
    )
    mention = FeedbackItemFactory(
        brand=brand,
        location=sibling_store,
        kind=FeedbackItem.Kind.MENTION,
        source="x",
        rating=None,
        rating_scale=None,
        text="Love the new menu",
        occurred_at=datetime(2026, 4, 1, 9, tzinfo=UTC),
    )
    ticket = FeedbackItemFactory(
        brand=brand,
        location=store,
        kind=FeedbackItem.Kind.TICKET,
        source="zendesk",
        rating=None,
        rating_scale=None,
        text="Refund please",
        title="Order 1234",
        occurred_at=datetime(2026, 5, 1, 9, tzinfo=UTC),
    )
    client.force_login(owner)

    assert _shown(client, brand) == [ticket, mention, review]
    assert _shown(client, brand, kind="mention") == [mention]
    assert _shown(client, brand, source="zendesk") == [ticket]
    assert _shown(client, brand, rating=1) == [review]
    assert _shown(client, brand, rating=4) == []
    assert _shown(client, brand, q="RUDE") == [review]
    assert _shown(client, brand, q="order 12") == [ticket]  # the title is searched too
    assert _shown(client, brand, location=sibling_store.pk) == [mention]
    assert _shown(client, brand, **{"from": "2026-04-01", "to": "2026-04-30"}) == [mention]
    assert _shown(client, brand, **{"from": "2026-04-02"}) == [ticket]
    assert _shown(client, brand, kind="nonsense", rating="x", **{"from": "soon"}) == [
        ticket,
        mention,
        review,
    ]


def test_rating_filter_reads_other_scales_as_stars(client, brand, owner, store):
    two_of_ten = FeedbackItemFactory(brand=brand, location=store, rating=2, rating_scale=10)
    FeedbackItemFactory(brand=brand, location=store, rating=5, rating_scale=5)
    client.force_login(owner)

    assert _shown(client, brand, rating=1) == [two_of_ten]


def test_location_manager_sees_only_their_subtree(client, brand, store, sibling_store, make_actor):
    mine = FeedbackItemFactory(brand=brand, location=store)
    FeedbackItemFactory(brand=brand, location=sibling_store)
    FeedbackItemFactory(brand=brand, location=None)  # brand-level: needs brand-wide reach
    client.force_login(make_actor(Role.LOCATION_MANAGER, store).user)

    assert _shown(client, brand) == [mine]


def test_switcher_location_narrows_the_list(client, brand, owner, store, sibling_store):
    FeedbackItemFactory(brand=brand, location=store)
    theirs = FeedbackItemFactory(brand=brand, location=sibling_store)
    client.force_login(owner)
    session = client.session
    session[f"location_scope:{brand.pk}"] = sibling_store.pk
    session.save()

    assert _shown(client, brand) == [theirs]


def test_list_paginates_by_50(client, brand, owner, store):
    FeedbackItemFactory.create_batch(51, brand=brand, location=store)
    client.force_login(owner)

    assert len(_shown(client, brand)) == 50
    assert len(_shown(client, brand, page=2)) == 1


def test_list_query_count_is_flat(client, brand, owner, store, django_assert_max_num_queries):
    for _ in range(8):
        FeedbackItemFactory.create_batch(4, brand=brand, location=LocationFactory(parent=store))
    client.force_login(owner)

    with django_assert_max_num_queries(9):
        page = client.get(_url(brand))

    assert len(page.context["page"].object_list) == 32


def test_detail_shows_the_full_text(client, brand, owner, store):
    text = "A long story. " * 40 + "The end."
    item = FeedbackItemFactory(brand=brand, location=store, text=text, url="https://g.test/r/1")
    client.force_login(owner)

    page = client.get(_url(brand, item.pk))

    assert page.status_code == 200
    body = page.content.decode()
    assert "The end." in body and "https://g.test/r/1" in body


def test_detail_of_a_sibling_store_is_404_for_a_location_manager(
    client, brand, store, sibling_store, make_actor
):
    mine = FeedbackItemFactory(brand=brand, location=store)
    theirs = FeedbackItemFactory(brand=brand, location=sibling_store)
    client.force_login(make_actor(Role.LOCATION_MANAGER, store).user)

    assert client.get(_url(brand, mine.pk)).status_code == 200
    assert client.get(_url(brand, theirs.pk)).status_code == 404


def test_detail_of_another_brand_is_404(client, brand, owner, stranger, store):
    foreign = FeedbackItemFactory(brand=BrandFactory())
    ours = FeedbackItemFactory(brand=brand, location=store)
    client.force_login(owner)
    assert client.get(_url(brand, foreign.pk)).status_code == 404

    client.force_login(stranger)
    assert client.get(_url(brand)).status_code == 404
    assert client.get(_url(brand, ours.pk)).status_code == 404
