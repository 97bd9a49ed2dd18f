from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opencx.platform.location_forms import parse_day
from opencx.platform.models import Location
from opencx.platform.roles import Role
from tests.factories import (
    FeedbackItemFactory,
    LocationFactory,
    RecordedResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


def url(name, brand, *args, query=""):
    return reverse(f"locations:{name}", args=[brand.slug, *args]) + query


def names_in(page):
    return [row["location"].name for row in page.context["rows"]]


def hours_post(**overrides):
    data = {
        "name": "Bergamo",
        "code": "",
        "kind": "store",
        "country": "it",
        "city": "Bergamo",
        "address": "Via XX Settembre 1",
        "timezone": "Europe/Rome",
        "languages": "it, en",
        "review_url": "",
        "is_active": "on",
        "hours_0": "09:00-13:00, 15:00-19:30",
        "hours_1": "9:30 - 18:00",
        "hours_2": "",
        "hours_3": "",
        "hours_4": "",
        "hours_5": "10:00-12:00",
        "hours_6": "",
    }
    data.update(overrides)
    return data


# --- the tree ---


def test_owner_sees_the_whole_tree_indented_with_rolled_up_figures(
    client, brand, owner, region, store, sibling_store
):
    survey = SurveyFactory(brand=brand)
    recent = timezone.now() - timedelta(days=5)
    for score in (10, 10, 3):
        RecordedResponseFactory(survey=survey, location=store, score=score, created_at=recent)
    RecordedResponseFactory(survey=survey, location=sibling_store, score=9, created_at=recent)
    # Older than 90 days: not counted.
    RecordedResponseFactory(
        survey=survey, location=store, score=0, created_at=recent - timedelta(days=100)
    )
    FeedbackItemFactory(brand=brand, location=store, occurred_at=recent)
    client.force_login(owner)

    page = client.get(url("list", brand))

    assert page.status_code == 200
    rows = {row["location"].name: row for row in page.context["rows"]}
    assert names_in(page) == ["North", "Milano Centro", "Torino"]
    assert (rows["North"]["indent"], rows["Milano Centro"]["indent"]) == (0, 1)
    milano, north = rows["Milano Centro"]["figures"], rows["North"]["figures"]
    assert (milano.responses, milano.feedback, milano.nps.n) == (3, 1, 3)
    assert milano.nps.value == pytest.approx(100 * (2 - 1) / 3)
    assert (north.responses, north.feedback, north.nps.n) == (4, 1, 4)
    assert north.nps.value == pytest.approx(50.0)
    html = page.content.decode()
    assert "Europe/Rome" in html
    assert url("new", brand) in html


def test_list_follows_the_location_switcher(client, brand, owner, region, store, sibling_store):
    client.force_login(owner)
    client.post(
        reverse("ui:switch-scope", args=[brand.slug]),
        {"location": store.pk, "next": url("list", brand)},
    )

    page = client.get(url("list", brand))

    assert names_in(page) == ["Milano Centro"]
    assert page.context["rows"][0]["indent"] == 0


def test_location_manager_sees_only_their_subtree(client, brand, make_actor, store, sibling_store):
    manager = make_actor(Role.LOCATION_MANAGER, store)
    LocationFactory(parent=store, name="Milano Outlet", code="milano-outlet")
    client.force_login(manager.user)

    page = client.get(url("list", brand))

    assert page.status_code == 200
    assert names_in(page) == ["Milano Centro", "Milano Outlet"]
    assert "Torino" not in page.content.decode()
    assert url("new", brand) not in page.content.decode()
    assert client.get(url("detail", brand, store.pk)).status_code == 200
    assert client.get(url("detail", brand, sibling_store.pk)).status_code == 404


def test_list_query_count_does_not_grow_with_locations(client, brand, owner, region):
    client.force_login(owner)
    client.get(url("list", brand))  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get(url("list", brand))
    # Eight, not more: platform.services._next_path cannot number an 11th child yet.
    for i in range(8):
        LocationFactory(parent=region, code=f"shop-{i}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(url("list", brand))
    assert len(page.context["rows"]) == 9
    assert len(many) == len(few)


# --- detail ---


def test_detail_shows_facts_hours_children_members_and_overview_switch(
    client, brand, owner, make_actor, region, store
):
    Location.objects.filter(pk=region.pk).update(
        address="Corso Italia 3", opening_hours={"0": [["09:00", "13:00"], ["15:00", "19:30"]]}
    )
    manager = make_actor(Role.LOCATION_MANAGER, region)
    client.force_login(owner)

    page = client.get(url("detail", brand, region.pk))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Corso Italia 3" in html
    assert "09:00-13:00, 15:00-19:30" in html
    assert page.context["hours"][0] == ("Monday", "09:00-13:00, 15:00-19:30")
    assert page.context["hours"][6] == ("Sunday", "")
    assert [child.name for child in page.context["children"]] == ["Milano Centro"]
    assert [m.user for m in page.context["members"]] == [manager.user]
    assert reverse("ui:switch-scope", args=[brand.slug]) in html
    assert "Show on Overview" in html


def test_location_of_another_brand_is_404(client, brand, owner, other_brand):
    foreign = LocationFactory(brand=other_brand)
    client.force_login(owner)
    assert client.get(url("detail", brand, foreign.pk)).status_code == 404
    assert client.get(url("edit", brand, foreign.pk)).status_code == 404


def test_brand_the_user_is_not_in_is_404(client, brand, store, stranger):
    client.force_login(stranger)
    assert client.get(url("list", brand)).status_code == 404
    assert client.get(url("detail", brand, store.pk)).status_code == 404


# --- create and edit ---


def test_owner_creates_a_location_with_parsed_opening_hours(client, brand, owner, region):
    client.force_login(owner)

    form_page = client.get(url("new", brand, query=f"?parent={region.pk}"))
    response = client.post(url("new", brand), hours_post(parent=region.pk))

    assert form_page.status_code == 200
    assert form_page.context["form"].initial["parent"] == region
    created = Location.objects.get(brand=brand, code="bergamo")
    assert response.status_code == 302
    assert response["Location"] == url("detail", brand, created.pk)
    assert created.parent == region
    assert created.path.startswith(region.path)
    assert created.country == "IT"
    assert created.languages == ["it", "en"]
    assert created.opening_hours == {
        "0": [["09:00", "13:00"], ["15:00", "19:30"]],
        "1": [["09:30", "18:00"]],
        "5": [["10:00", "12:00"]],
    }


def test_bad_opening_hours_show_per_day_errors_and_create_nothing(client, brand, owner):
    client.force_login(owner)

    page = client.post(
        url("new", brand),
        hours_post(hours_0="9 to 1", hours_2="18:00-09:00", hours_4="09:00-13:00, 12:00-14:00"),
    )

    assert page.status_code == 200
    errors = page.context["form"].errors
    assert set(errors) == {"hours_0", "hours_2", "hours_4"}
    assert "Monday" in errors["hours_0"][0]
    assert "closes before it opens" in errors["hours_2"][0]
    assert "overlap" in errors["hours_4"][0]
    assert not Location.objects.filter(code="bergamo").exists()
    assert "closes before it opens" in page.content.decode()


def test_service_error_lands_on_the_field_it_names(client, brand, owner, store):
    client.force_login(owner)

    page = client.post(url("new", brand), hours_post(code="milano"))

    assert page.status_code == 200
    assert "in use" in page.context["form"].errors["code"][0]
    assert Location.objects.filter(brand=brand, code="milano").count() == 1


@pytest.mark.parametrize("day_text", ["25:00-26:00", "09:00-", "09:00-09:00"])
def test_parse_day_rejects_impossible_intervals(day_text):
    from django import forms

    with pytest.raises(forms.ValidationError):
        parse_day(day_text, weekday="Friday")


def test_parse_day_sorts_intervals_and_accepts_dashes():
    assert parse_day("15:00 – 19:00, 9:00-12:30", weekday="Monday") == [
        ["09:00", "12:30"],
        ["15:00", "19:00"],
    ]
    assert parse_day(" ", weekday="Monday") == []


def test_owner_edits_a_location(client, brand, owner, store):
    Location.objects.filter(pk=store.pk).update(opening_hours={"2": [["08:00", "12:00"]]})
    client.force_login(owner)

    form_page = client.get(url("edit", brand, store.pk))
    response = client.post(
        url("edit", brand, store.pk),
        hours_post(name="Milano Duomo", code="milano", hours_0="", hours_1="", hours_5=""),
    )

    assert form_page.context["form"].initial["hours_2"] == "08:00-12:00"
    assert "parent" not in form_page.context["form"].fields
    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.name, store.code, store.opening_hours) == ("Milano Duomo", "milano", {})


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT, Role.LOCATION_MANAGER])
def test_lower_roles_get_403_on_create_and_edit(client, brand, make_actor, store, role):
    actor = make_actor(role, store if role == Role.LOCATION_MANAGER else None)
    client.force_login(actor.user)

    assert client.get(url("new", brand)).status_code == 403
    assert client.post(url("new", brand), hours_post(parent=store.pk)).status_code == 403
    assert client.get(url("edit", brand, store.pk)).status_code == 403
    assert client.post(url("edit", brand, store.pk), hours_post()).status_code == 403
    detail = client.get(url("detail", brand, store.pk)).content.decode()
    assert url("edit", brand, store.pk) not in detail
    assert not Location.objects.filter(code="bergamo").exists()


def test_scoped_manager_cannot_create_outside_their_subtree(
    client, brand, make_actor, store, sibling_store
):
    cx_manager = make_actor(Role.CX_MANAGER, store)  # may manage locations, only under Milano
    client.force_login(cx_manager.user)

    assert client.get(url("new", brand, query=f"?parent={sibling_store.pk}")).status_code == 404
    outside = client.post(url("new", brand), hours_post(parent=sibling_store.pk))
    top_level = client.post(url("new", brand), hours_post(parent=""))
    assert client.get(url("edit", brand, sibling_store.pk)).status_code == 404

    assert "parent" in outside.context["form"].errors
    assert "parent" in top_level.context["form"].errors
    assert not Location.objects.filter(code="bergamo").exists()
    inside = client.post(url("new", brand), hours_post(parent=store.pk))
    assert inside.status_code == 302
    assert Location.objects.get(code="bergamo").parent == store
