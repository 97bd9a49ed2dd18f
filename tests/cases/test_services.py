"""Rules open cases, owners and due dates follow the location, the lifecycle is checked."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from opencx.cases import services
from opencx.cases.models import Case, CaseEvent, CaseRule, CaseSource
from opencx.platform.errors import AppError, Conflict, Forbidden, NotFound
from opencx.platform.roles import Role
from opencx.surveys.models import Invitation
from opencx.surveys.services import invitation_create, response_record
from tests.factories import (
    FeedbackItemFactory,
    MembershipFactory,
    TouchpointFactory,
    headline_question_for,
)

Trigger = CaseRule.Trigger


def rule(brand, trigger=Trigger.NPS_AT_MOST, **fields):
    fields.setdefault("name", trigger.label)
    return CaseRule.objects.create(brand=brand, trigger=trigger, **fields)


def respond(survey, store, score, *, contact=None, comment="", follow_up=None, **kwargs):
    answers = {headline_question_for(survey).pk: score}
    if comment and follow_up is not None:
        answers[follow_up.pk] = comment
    return response_record(
        survey=survey, location=store, contact=contact, language="en", answers=answers, **kwargs
    )


@pytest.fixture
def nps(make_survey):
    return make_survey("nps")


# --- Opening ----------------------------------------------------------------------------------


def test_a_detractor_opens_a_case_for_the_location_manager(brand, store, manager, customer, nps):
    survey, _headline, comment_q = nps
    rule(brand, priority="high")
    response = respond(
        survey, store, 3, contact=customer, comment="Rude staff", follow_up=comment_q
    )
    case = services.cases_from_response(response_id=response.pk)
    assert case.owner == manager
    assert (case.status, case.priority, case.location, case.contact) == (
        "new",
        "high",
        store,
        customer,
    )
    assert case.trigger_score == 3 and case.survey == survey
    assert case.sources.get().response == response
    assert list(case.events.values_list("kind", flat=True)) == ["opened"]
    # High priority by default: 4 business hours to acknowledge, 24 to resolve.
    assert case.acknowledge_due_at < case.due_at


def test_a_passive_or_a_promoter_opens_nothing(brand, store, manager, nps):
    survey, *_ = nps
    rule(brand)
    for score in (7, 9):
        response = respond(survey, store, score)
        assert services.cases_from_response(response_id=response.pk) is None
    assert not Case.objects.exists()


def test_the_same_response_handled_twice_opens_one_case(brand, store, manager, customer, nps):
    survey, *_ = nps
    rule(brand)
    response = respond(survey, store, 2, contact=customer)
    first = services.cases_from_response(response_id=response.pk)
    second = services.cases_from_response(response_id=response.pk)
    assert first == second
    assert Case.objects.count() == 1 and CaseSource.objects.count() == 1


def test_a_repeat_complaint_joins_the_open_case(brand, store, manager, customer, nps):
    survey, *_ = nps
    rule(brand, Trigger.KEYWORD, keywords=["refund"], priority="urgent", position=0)
    rule(brand, priority="normal", position=1)
    first = services.cases_from_response(response_id=respond(survey, store, 4, contact=customer).pk)
    assert first.priority == "normal"
    _s, _h, comment_q = nps
    again = respond(
        survey, store, 1, contact=customer, comment="I want a refund now", follow_up=comment_q
    )
    joined = services.cases_from_response(response_id=again.pk)
    assert joined == first
    joined.refresh_from_db()
    assert joined.priority == "urgent"  # the more urgent rule raises it
    assert joined.sources.count() == 2
    assert joined.events.filter(kind="joined").count() == 1


def test_after_resolution_a_new_complaint_opens_a_new_case(
    brand, store, manager, customer, nps, owner_actor
):
    survey, *_ = nps
    rule(brand)
    first = services.cases_from_response(response_id=respond(survey, store, 4, contact=customer).pk)
    services.case_transition(actor=owner_actor, case=first, to="resolved", note="Refunded")
    again = respond(survey, store, 2, contact=customer)
    second = services.cases_from_response(response_id=again.pk)
    assert second != first and second.status == "new"


def test_the_database_refuses_two_open_cases_for_one_customer(brand, store, customer):
    Case.objects.create(brand=brand, location=store, contact=customer, title="one")
    with pytest.raises(IntegrityError):
        Case.objects.create(brand=brand, location=store, contact=customer, title="two")


def test_rules_narrow_by_location_touchpoint_and_survey(
    brand, store, sibling_store, manager, make_survey
):
    survey, *_ = make_survey("nps")
    other_survey, *_ = make_survey("nps")
    counter = TouchpointFactory(brand=brand, key="counter")
    rule(brand, location=store, touchpoint=counter, survey=survey)
    elsewhere = respond(survey, sibling_store, 0, touchpoint=counter)
    no_touchpoint = respond(survey, store, 0)
    other = respond(other_survey, store, 0, touchpoint=counter)
    matching = respond(survey, store, 0, touchpoint=counter)
    for response in (elsewhere, no_touchpoint, other):
        assert services.cases_from_response(response_id=response.pk) is None
    assert services.cases_from_response(response_id=matching.pk) is not None


@pytest.mark.parametrize(
    ("kind", "satisfied", "score", "opens"),
    [
        ("csat", [4, 5], 2, True),
        ("csat", [4, 5], 3, False),  # the midpoint is neither side
        ("csat", [4, 5], 5, False),
        ("ces", [5, 6, 7], 3, True),
        ("ces", [5, 6, 7], 4, False),
    ],
)
def test_csat_and_ces_on_the_bad_side_of_their_scale(
    brand, store, manager, make_survey, kind, satisfied, score, opens
):
    survey, *_ = make_survey(kind, satisfied=satisfied)
    rule(brand, Trigger.BAD_SIDE)
    response = respond(survey, store, score)
    assert (services.cases_from_response(response_id=response.pk) is not None) is opens


@pytest.mark.parametrize(
    ("comment", "opens"),
    [
        ("Voglio il rimborso", True),
        ("Требую ВОЗВРАТ денег", True),
        ("They refunded me late", True),  # a word start finds inflections
        ("a prefunded account", False),  # but not the middle of a word
        ("All fine", False),
    ],
)
def test_keywords_match_word_starts_in_any_script_and_case(
    brand, store, manager, nps, comment, opens
):
    survey, _headline, comment_q = nps
    rule(brand, Trigger.KEYWORD, keywords=["refund", "rimborso", "возврат"])
    response = respond(survey, store, 9, comment=comment, follow_up=comment_q)
    assert (services.cases_from_response(response_id=response.pk) is not None) is opens


def test_a_rating_drop_compares_with_the_customers_previous_score(
    brand, store, manager, customer, nps
):
    survey, *_ = nps
    rule(brand, Trigger.RATING_DROP, threshold=3)
    first = respond(survey, store, 10, contact=customer)
    small = respond(survey, store, 8, contact=customer)
    big = respond(survey, store, 5, contact=customer)
    assert services.cases_from_response(response_id=first.pk) is None
    assert services.cases_from_response(response_id=small.pk) is None
    assert services.cases_from_response(response_id=big.pk) is not None


def test_feedback_rules_low_rating_sentiment_and_keyword(brand, store, manager):
    rule(brand, Trigger.LOW_RATING, threshold=2)
    rule(brand, Trigger.NEGATIVE_SENTIMENT)
    rule(brand, Trigger.KEYWORD, keywords=["reembolso"])
    one_star = FeedbackItemFactory(brand=brand, location=store, rating=1)
    ten_scale = FeedbackItemFactory(brand=brand, location=store, rating=6, rating_scale=10)
    negative = FeedbackItemFactory(
        brand=brand, location=store, rating=None, kind="mention", sentiment="negative"
    )
    words = FeedbackItemFactory(brand=brand, location=store, rating=5, text="Pido un reembolso")
    fine = FeedbackItemFactory(brand=brand, location=store, rating=4, sentiment="positive")
    assert services.cases_from_feedback(feedback_id=one_star.pk) is not None
    assert services.cases_from_feedback(feedback_id=ten_scale.pk) is None  # 3 of 5
    assert services.cases_from_feedback(feedback_id=negative.pk) is not None
    assert services.cases_from_feedback(feedback_id=words.pk) is not None
    assert services.cases_from_feedback(feedback_id=fine.pk) is None
    assert services.cases_from_feedback(feedback_id=one_star.pk).sources.count() == 1


def test_inactive_rules_open_nothing(brand, store, manager, nps):
    survey, *_ = nps
    rule(brand, is_active=False)
    assert services.cases_from_response(response_id=respond(survey, store, 0).pk) is None


# --- Owners and deadlines ---------------------------------------------------------------------


def test_routing_rules_pick_the_owner_by_topic(brand, store, manager, nps, owner_actor):
    survey, _headline, comment_q = nps
    rule(brand)
    courier = MembershipFactory(brand=brand, role=Role.CX_MANAGER).user
    services.routing_rule_create(actor=owner_actor, owner=courier, topic="delivery")
    late = respond(survey, store, 2, comment="The delivery was late", follow_up=comment_q)
    rude = respond(survey, store, 2, comment="Rude staff", follow_up=comment_q)
    assert services.cases_from_response(response_id=late.pk).owner == courier
    assert services.cases_from_response(response_id=rude.pk).owner == manager


def test_the_nearest_manager_owns_then_the_cx_manager(brand, region, store, cx_manager, nps):
    survey, *_ = nps
    rule(brand)
    assert services.cases_from_response(response_id=respond(survey, store, 1).pk).owner == (
        cx_manager
    )
    regional = MembershipFactory(brand=brand, role=Role.LOCATION_MANAGER, location=region).user
    assert services.cases_from_response(response_id=respond(survey, store, 1).pk).owner == (
        regional
    )


def test_due_dates_count_the_locations_business_hours(brand, store, manager, owner_actor):
    store.timezone = "Europe/Rome"
    store.opening_hours = {str(day): [["09:00", "18:00"]] for day in range(5)}
    store.save()
    services.sla_policy_set(
        actor=owner_actor, priority="normal", acknowledge_hours=2, resolve_hours=9
    )
    acknowledge, due = services._due_dates(
        store,
        "normal",
        datetime(2026, 6, 5, 16, 0, tzinfo=UTC),  # Friday 18:00 in Rome
    )
    # Closed at the weekend: Monday 09:00 + 2 h and + 9 h (Rome, UTC+2 in June).
    assert acknowledge == datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    assert due == datetime(2026, 6, 8, 16, 0, tzinfo=UTC)


def test_sla_policy_validation(owner_actor, make_actor, store):
    with pytest.raises(AppError) as error:
        services.sla_policy_set(
            actor=owner_actor, priority="normal", acknowledge_hours=8, resolve_hours=4
        )
    assert error.value.field == "resolve_hours"
    with pytest.raises(AppError):
        services.sla_policy_set(
            actor=owner_actor, priority="someday", acknowledge_hours=1, resolve_hours=4
        )
    with pytest.raises(Forbidden):
        services.sla_policy_set(
            actor=make_actor(Role.LOCATION_MANAGER, store),
            priority="low",
            acknowledge_hours=1,
            resolve_hours=4,
        )


# --- Lifecycle --------------------------------------------------------------------------------


@pytest.fixture
def case(brand, store, manager, customer, nps):
    survey, *_ = nps
    rule(brand)
    return services.cases_from_response(response_id=respond(survey, store, 2, contact=customer).pk)


def test_the_lifecycle_stamps_each_state(case, make_actor, store):
    actor = make_actor(Role.LOCATION_MANAGER, store)
    services.case_transition(actor=actor, case=case, to="acknowledged")
    services.case_transition(actor=actor, case=case, to="in_progress")
    services.case_transition(actor=actor, case=case, to="resolved", note="Apologised, refunded")
    services.case_transition(actor=actor, case=case, to="closed")
    case.refresh_from_db()
    stamps = [case.opened_at, case.acknowledged_at, case.in_progress_at, case.resolved_at]
    assert stamps == sorted(stamps) and case.closed_at >= case.resolved_at
    assert case.resolution == "Apologised, refunded"
    moves = case.events.filter(kind="status").values_list("data__before", "data__after")
    assert list(moves) == [
        ("new", "acknowledged"),
        ("acknowledged", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]


def test_transitions_are_checked(case, owner_actor):
    with pytest.raises(AppError, match="how the case was resolved"):
        services.case_transition(actor=owner_actor, case=case, to="resolved")
    with pytest.raises(AppError, match="why the case is closed"):
        services.case_transition(actor=owner_actor, case=case, to="closed")
    with pytest.raises(AppError):
        services.case_transition(actor=owner_actor, case=case, to="done")
    services.case_transition(actor=owner_actor, case=case, to="closed", note="Spam")
    with pytest.raises(Conflict):
        services.case_transition(actor=owner_actor, case=case, to="in_progress")


def test_a_resolved_case_can_be_reopened(case, owner_actor):
    services.case_transition(actor=owner_actor, case=case, to="resolved", note="Called")
    reopened = services.case_transition(actor=owner_actor, case=case, to="in_progress")
    assert reopened.status == "in_progress" and reopened.resolved_at is None


def test_only_members_who_reach_the_location_may_work_it(case, make_actor, sibling_store, store):
    with pytest.raises(NotFound):
        services.case_note(
            actor=make_actor(Role.LOCATION_MANAGER, sibling_store), case=case, body="hi"
        )
    with pytest.raises(Forbidden):
        services.case_note(actor=make_actor(Role.VIEWER), case=case, body="hi")
    services.case_note(actor=make_actor(Role.AGENT, store), case=case, body="Called back")
    assert case.events.filter(kind="note").get().body == "Called back"


def test_assign_checks_the_new_owner(case, owner_actor, sibling_store, brand, cx_manager):
    outsider = MembershipFactory(
        brand=brand, role=Role.LOCATION_MANAGER, location=sibling_store
    ).user
    with pytest.raises(AppError) as error:
        services.case_assign(actor=owner_actor, case=case, owner=outsider)
    assert error.value.field == "owner"
    assigned = services.case_assign(actor=owner_actor, case=case, owner=cx_manager)
    assert assigned.owner == cx_manager
    assert case.events.filter(kind="assigned").count() == 1


def test_priority_moves_the_due_dates(case, owner_actor):
    before = case.due_at
    urgent = services.case_set_priority(actor=owner_actor, case=case, priority="urgent")
    assert urgent.due_at < before


def test_root_cause_fields(case, owner_actor):
    moment = timezone.now() - timedelta(days=2)
    services.case_record_root_cause(
        actor=owner_actor,
        case=case,
        what_happened="Queue of 20 minutes at the till",
        happened_at=moment,
        duration="Saturday afternoon",
        noticed_by="Two other customers",
        why="One till was closed for training",
        customer_reaction="Left without buying",
        change_after="Training moved to Tuesday mornings",
        root_cause="waiting",
    )
    case.refresh_from_db()
    assert (case.root_cause, case.happened_at) == ("waiting", moment)
    with pytest.raises(AppError) as error:
        services.case_record_root_cause(actor=owner_actor, case=case, root_cause="aliens")
    assert error.value.field == "root_cause"
    with pytest.raises(AppError):
        services.case_record_root_cause(actor=owner_actor, case=case, colour="red")


def test_escalation_happens_once_to_the_cx_manager(case, cx_manager):
    later = case.due_at + timedelta(hours=1)
    assert services.cases_escalate_overdue(now=later) == [case.pk]
    assert services.cases_escalate_overdue(now=later + timedelta(hours=5)) == []
    case.refresh_from_db()
    assert case.escalated_to == cx_manager and case.escalated_at == later
    assert case.events.filter(kind="escalated").count() == 1


def test_cases_not_yet_due_are_not_escalated(case):
    assert services.cases_escalate_overdue(now=case.due_at - timedelta(minutes=1)) == []


# --- Closing the loop -------------------------------------------------------------------------


def test_the_resurvey_ignores_fatigue_and_records_the_outcome(case, owner_actor, nps, store):
    survey, *_ = nps
    invited = invitation_create(
        actor=owner_actor, survey=survey, contact=case.contact, location=store, via="email"
    )
    again = invitation_create(
        actor=owner_actor, survey=survey, contact=case.contact, location=store, via="email"
    )
    assert invited.status == "queued" and "already invited" in again.skip_reason
    services.case_transition(actor=owner_actor, case=case, to="resolved", note="Refunded")
    invitation = services.case_resurvey_send(case_id=case.pk).resurvey_invitation
    # Just invited, yet the promised follow-up goes out: fatigue does not apply to it.
    assert invitation.status == Invitation.Status.QUEUED
    assert services.case_resurvey_send(case_id=case.pk).resurvey_invitation == invitation
    answer = respond(survey, store, 9, contact=case.contact, invitation=invitation)
    assert services.cases_from_response(response_id=answer.pk) == case
    case.refresh_from_db()
    assert (case.resurvey_score, case.recovered) == (9, True)
    assert case.events.filter(kind="outcome").count() == 1


def test_an_unhappy_resurvey_is_recorded_without_a_new_case(case, owner_actor, nps, store):
    survey, *_ = nps
    services.case_transition(actor=owner_actor, case=case, to="resolved", note="Refunded")
    invitation = services.case_resurvey_send(case_id=case.pk).resurvey_invitation
    answer = respond(survey, store, 3, contact=case.contact, invitation=invitation)
    services.cases_from_response(response_id=answer.pk)
    case.refresh_from_db()
    assert case.recovered is False
    assert Case.objects.count() == 1


def test_no_resurvey_for_an_opted_out_customer(case, owner_actor):
    from opencx.surveys.services import survey_opt_out

    survey_opt_out(contact=case.contact)
    services.case_transition(actor=owner_actor, case=case, to="resolved", note="Refunded")
    invitation = services.case_resurvey_send(case_id=case.pk).resurvey_invitation
    assert invitation.status == Invitation.Status.SKIPPED
    assert "no re-survey" in case.events.get(kind="resurvey").body.lower()


def test_reply_needs_an_address_and_an_open_case(case, owner_actor, customer, brand, store):
    event = services.case_reply(actor=owner_actor, case=case, body="We are sorry.")
    assert (event.delivery, event.data["to"]) == ("queued", "giulia@example.test")
    case.refresh_from_db()
    assert case.status == "in_progress" and case.acknowledged_at is not None
    with pytest.raises(AppError):
        services.case_reply(actor=owner_actor, case=case, body="   ")
    anonymous = services.case_open_manually(actor=owner_actor, location=store, title="Walk-in")
    with pytest.raises(AppError, match="no e-mail address"):
        services.case_reply(actor=owner_actor, case=anonymous, body="Hello")


def test_opening_by_hand(owner_actor, store, customer, manager, make_actor, sibling_store):
    case = services.case_open_manually(
        actor=owner_actor, location=store, title="Complaint by phone", contact=customer
    )
    assert case.owner == manager and case.events.get().kind == CaseEvent.Kind.OPENED
    with pytest.raises(Conflict):
        services.case_open_manually(
            actor=owner_actor, location=store, title="Again", contact=customer
        )
    with pytest.raises(NotFound):
        services.case_open_manually(
            actor=make_actor(Role.LOCATION_MANAGER, sibling_store), location=store, title="x"
        )


def test_rule_configuration_is_validated(owner_actor, make_actor, other_brand, store):
    created = services.case_rule_create(
        actor=owner_actor, name="Refunds", trigger="keyword", keywords="refund, rimborso,,"
    )
    assert created.keywords == ["refund", "rimborso"]
    with pytest.raises(AppError) as error:
        services.case_rule_create(actor=owner_actor, name="Empty", trigger="keyword")
    assert error.value.field == "keywords"
    with pytest.raises(AppError):
        services.case_rule_create(actor=owner_actor, name="x", trigger="moon_phase")
    with pytest.raises(Forbidden):
        services.case_rule_create(
            actor=make_actor(Role.LOCATION_MANAGER, store), name="x", trigger="nps_at_most"
        )
    updated = services.case_rule_update(actor=owner_actor, rule=created, threshold=5)
    assert updated.threshold == 5 and updated.keywords == ["refund", "rimborso"]
    services.case_rule_delete(actor=owner_actor, rule=created)
    assert not CaseRule.objects.exists()
