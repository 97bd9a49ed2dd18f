"""Case pages: the list and its filters, one case worked through its forms, a case by hand."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opencx.cases.models import Case, CaseEvent
from opencx.platform.roles import Role
from tests.factories import (
    CaseFactory,
    CaseRuleFactory,
    FeedbackItemFactory,
    OrderFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


def _list(client, brand, **params):
    page = client.get(reverse("cases:list", args=[brand.slug]), params)
    assert page.status_code == 200
    return [case for case, _flag in page.context["rows"]]


def _detail_url(case):
    return reverse("cases:detail", args=[case.brand.slug, case.pk])


def _post(client, case, **data):
    return client.post(_detail_url(case), data)


# --- The list ---------------------------------------------------------------------------------


def test_list_shows_open_cases_newest_first_with_counts_per_status(client, brand, owner, store):
    now = timezone.now()
    older = CaseFactory(brand=brand, location=store, opened_at=now - timedelta(days=2))
    newer = CaseFactory(brand=brand, location=store, opened_at=now - timedelta(hours=1))
    closed = CaseFactory(brand=brand, location=store, status=Case.Status.CLOSED)
    client.force_login(owner)
    assert _list(client, brand) == [newer, older]
    assert _list(client, brand, status="closed") == [closed]
    assert len(_list(client, brand, status="all")) == 3
    tabs = {
        tab: count
        for tab, _label, count in client.get(reverse("cases:list", args=[brand.slug])).context[
            "tabs"
        ]
    }
    assert tabs["open"] == 2 and tabs["new"] == 2 and tabs["closed"] == 1 and tabs["all"] == 3


def test_list_filters_by_owner_me_nobody_location_priority_overdue_and_text(
    client, brand, owner, store, sibling_store
):
    now = timezone.now()
    mine = CaseFactory(brand=brand, location=store, owner=owner, title="Cold coffee")
    nobodys = CaseFactory(brand=brand, location=sibling_store, priority="urgent")
    late = CaseFactory(
        brand=brand, location=store, title="Rude staff", due_at=now - timedelta(hours=1)
    )
    client.force_login(owner)
    assert _list(client, brand, owner="me") == [mine]
    assert set(_list(client, brand, owner="none")) == {nobodys, late}
    assert _list(client, brand, location=sibling_store.pk) == [nobodys]
    assert _list(client, brand, priority="urgent") == [nobodys]
    assert _list(client, brand, overdue="1") == [late]
    assert _list(client, brand, q="coffee") == [mine]
    # Hostile or unknown values are ignored, never a 500.
    assert len(_list(client, brand, owner="²", location="99999999999", priority="x")) == 3


def test_list_flags_overdue_and_due_soon(client, brand, owner, store):
    now = timezone.now()
    CaseFactory(brand=brand, location=store, due_at=now - timedelta(minutes=5))
    CaseFactory(brand=brand, location=store, due_at=now + timedelta(hours=3))
    client.force_login(owner)
    page = client.get(reverse("cases:list", args=[brand.slug]))
    assert sorted(flag for _case, flag in page.context["rows"]) == ["due_soon", "overdue"]
    assert "Overdue" in page.content.decode() and "Due soon" in page.content.decode()


def test_location_manager_lists_only_their_store(client, brand, store, sibling_store, make_actor):
    here = CaseFactory(brand=brand, location=store)
    CaseFactory(brand=brand, location=sibling_store)
    manager = make_actor(Role.LOCATION_MANAGER, store)
    client.force_login(manager.user)
    assert _list(client, brand) == [here]


def test_list_answers_htmx_with_the_results_only(client, brand, owner, store):
    CaseFactory(brand=brand, location=store, title="Broken chair")
    client.force_login(owner)
    page = client.get(reverse("cases:list", args=[brand.slug]), headers={"HX-Request": "true"})
    body = page.content.decode()
    assert "Broken chair" in body and "<html" not in body


# --- One case ---------------------------------------------------------------------------------


@pytest.fixture
def case(brand, store, manager):
    return CaseFactory(brand=brand, location=store, owner=manager, title="Waited 40 minutes")


def test_viewer_sees_the_case_but_no_forms(client, brand, case, make_actor):
    viewer = make_actor(Role.VIEWER)
    client.force_login(viewer.user)
    page = client.get(_detail_url(case))
    assert page.status_code == 200
    assert page.context["forms"] == {}
    assert 'name="action"' not in page.content.decode()
    assert _post(client, case, action="note", body="hi").status_code == 403
    assert not case.events.exists()


def test_only_allowed_transitions_are_offered_and_each_is_a_service_call(client, case, manager):
    client.force_login(manager)
    page = client.get(_detail_url(case))
    assert [value for value, _label in page.context["transitions"]] == [
        "acknowledged",
        "in_progress",
        "resolved",
        "closed",
    ]
    response = _post(client, case, action="transition", to="acknowledged", note="On it")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "acknowledged" and case.acknowledged_at is not None
    page = client.get(_detail_url(case))
    assert "acknowledged" not in [value for value, _ in page.context["transitions"]]


def test_resolving_without_a_resolution_shows_the_services_error_on_the_note(client, case, manager):
    client.force_login(manager)
    page = _post(client, case, action="transition", to="resolved", note="")
    assert page.status_code == 400
    assert page.context["forms"]["transition"].errors["note"] == ["Say how the case was resolved."]
    assert "Say how the case was resolved." in page.content.decode()
    case.refresh_from_db()
    assert case.status == "new"
    page = _post(client, case, action="transition", to="resolved", note="Refunded the meal")
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolution == "Refunded the meal"


def test_a_closed_case_refuses_every_transition_with_409(client, brand, store, manager):
    closed = CaseFactory(brand=brand, location=store, status=Case.Status.CLOSED)
    client.force_login(manager)
    assert client.get(_detail_url(closed)).context["transitions"] == []
    page = _post(client, closed, action="transition", to="in_progress")
    assert page.status_code == 409


def test_assign_and_priority(client, case, manager, cx_manager, make_actor):
    client.force_login(manager)
    page = client.get(_detail_url(case))
    choices = dict(page.context["forms"]["assign"].fields["owner"].choices)
    assert str(cx_manager.pk) in choices
    agent = make_actor(Role.VIEWER)
    assert str(agent.user.pk) not in choices  # a viewer cannot work cases
    assert _post(client, case, action="assign", owner=cx_manager.pk).status_code == 302
    case.refresh_from_db()
    assert case.owner == cx_manager
    bad = _post(client, case, action="assign", owner=agent.user.pk)
    assert bad.status_code == 400 and "owner" in bad.context["forms"]["assign"].errors
    due = case.due_at
    assert _post(client, case, action="priority", priority="urgent").status_code == 302
    case.refresh_from_db()
    assert case.priority == "urgent" and case.due_at < due


def test_root_cause_reads_the_time_in_the_locations_time_zone(client, case, manager):
    client.force_login(manager)
    response = _post(
        client,
        case,
        action="root_cause",
        what_happened="The espresso machine broke",
        happened_at="2026-03-14T18:30",
        duration="Two hours",
        noticed_by="Two other tables",
        why="No spare machine",
        customer_reaction="Left without paying",
        change_after="A second machine on standby",
        root_cause="premises",
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.happened_at == datetime(2026, 3, 14, 17, 30, tzinfo=UTC)  # Rome is UTC+1
    assert case.root_cause == "premises" and case.duration == "Two hours"
    page = client.get(_detail_url(case))
    assert page.context["forms"]["root_cause"]["happened_at"].value() == "2026-03-14T18:30"
    bad = _post(client, case, action="root_cause", happened_at="yesterday", root_cause="x")
    assert bad.status_code == 400
    assert set(bad.context["forms"]["root_cause"].errors) == {"happened_at", "root_cause"}


def test_reply_by_email_shows_the_address_and_delivery(
    client,
    case,
    manager,
    customer,
    smtp_server,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    Case.objects.filter(pk=case.pk).update(contact=customer)
    client.force_login(manager)
    page = client.get(_detail_url(case))
    assert "giulia@example.test" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, case, action="reply", subject="", body="We are sorry.")
    assert response.status_code == 302
    [message] = smtp_server.messages
    assert message["To"] == "giulia@example.test"
    page = client.get(_detail_url(case))
    [reply] = page.context["replies"]
    assert reply.delivery == "sent"
    case.refresh_from_db()
    assert case.status == "in_progress"


def test_reply_without_an_address_is_refused_on_the_field(client, case, manager):
    client.force_login(manager)
    page = _post(client, case, action="reply", body="Hello")
    assert page.status_code == 400
    assert "no e-mail address" in page.content.decode()
    assert not case.events.filter(kind=CaseEvent.Kind.REPLY).exists()


def test_internal_note_joins_the_timeline(client, case, manager):
    client.force_login(manager)
    assert _post(client, case, action="note", body="Called the store").status_code == 302
    page = client.get(_detail_url(case))
    assert [e.body for e in page.context["events"]] == ["Called the store"]
    assert _post(client, case, action="note", body="  ").status_code == 400
    assert _post(client, case, action="explode").status_code == 400


def test_sources_and_the_customers_history(client, brand, store, manager, customer):
    survey = SurveyFactory(brand=brand, name="Visit NPS")
    rule = CaseRuleFactory(brand=brand)
    response = ResponseFactory(
        survey=survey, location=store, score=2, contact=customer, comment="Cold pasta"
    )
    review = FeedbackItemFactory(brand=brand, location=store, contact=customer, rating=1)
    OrderFactory(brand=brand, location=store, contact=customer)
    case = CaseFactory(brand=brand, location=store, contact=customer, rule=rule)
    case.sources.create(response=response, rule=rule)
    case.sources.create(feedback=review, rule=rule)
    client.force_login(manager)
    page = client.get(_detail_url(case))
    body = page.content.decode()
    assert reverse("surveys:response-detail", args=[brand.slug, response.pk]) in body
    assert reverse("feedback:detail", args=[brand.slug, review.pk]) in body
    assert "Cold pasta" in body
    history = page.context["history"]
    assert {row["entry"].kind for row in history["entries"]} == {"order", "response", "feedback"}
    assert all(row["in_case"] for row in history["entries"] if row["entry"].kind != "order")
    assert history["orders"].count == 1
    assert history["contact_url"] is None  # the customer has no home location: brand-wide only


def test_another_stores_case_is_404(client, brand, sibling_store, make_actor, case):
    manager = make_actor(Role.LOCATION_MANAGER, sibling_store)
    client.force_login(manager.user)
    assert client.get(_detail_url(case)).status_code == 404
    assert _post(client, case, action="note", body="x").status_code == 404


# --- A case by hand ---------------------------------------------------------------------------


def test_new_case_by_hand_with_a_customer_found_by_email(client, brand, store, manager, customer):
    customer.home_location = store  # a location manager sees the customers of their store
    customer.save()
    client.force_login(manager)
    url = reverse("cases:new", args=[brand.slug])
    page = client.post(
        url,
        {
            "title": "Called about a refund",
            "location": store.pk,
            "priority": "high",
            "email": "nobody@example.test",
        },
    )
    assert page.status_code == 400 and "email" in page.context["form"].errors
    page = client.post(
        url,
        {
            "title": "Called about a refund",
            "location": store.pk,
            "priority": "high",
            "email": "Giulia@Example.test",
        },
    )
    case = Case.objects.get()
    assert page.status_code == 302 and page["Location"] == _detail_url(case)
    assert case.contact == customer and case.priority == "high" and case.owner == manager


def test_new_case_from_a_response_and_for_viewers_403(client, brand, store, owner, make_actor):
    survey = SurveyFactory(brand=brand, name="Visit NPS")
    response = ResponseFactory(survey=survey, location=store, score=3)
    client.force_login(owner)
    url = reverse("cases:new", args=[brand.slug])
    page = client.get(url, {"response": response.pk})
    assert page.context["form"].initial["title"] == f"Visit NPS: 3 at {store.name}"
    client.post(
        url, {"response": response.pk, "title": "x", "location": store.pk, "priority": "normal"}
    )
    assert Case.objects.get().sources.get().response == response
    viewer = make_actor(Role.VIEWER)
    client.force_login(viewer.user)
    assert client.get(url).status_code == 403
