"""The demo's closed loop: rules, routing, SLAs, and cases in every state as the services make
them."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Count

from opencx.cases import services
from opencx.cases.models import Case, CaseEvent, CaseRule, CaseSource, RoutingRule, SlaPolicy
from opencx.demo import closed_loop
from opencx.feedback.models import FeedbackItem
from opencx.platform.models import User
from opencx.surveys.models import Invitation, Response

from .conftest import END_DATE

pytestmark = pytest.mark.django_db

END = datetime.fromisoformat(END_DATE).replace(tzinfo=UTC)
STAMPS = ["opened_at", "acknowledged_at", "in_progress_at", "resolved_at", "closed_at"]


def _cases(brand):
    return Case.objects.filter(brand=brand)


def test_rules_routing_and_sla_policies_are_set_up(demo):
    rules = list(CaseRule.objects.filter(brand=demo))
    assert [r.name for r in rules] == [name for name, *_ in closed_loop.RULES]
    by_trigger = {r.trigger: r for r in rules}
    assert by_trigger["nps_at_most"].threshold == 6
    assert by_trigger["nps_at_most"].priority == "high"
    assert by_trigger["low_rating"].threshold == 2
    assert by_trigger["rating_drop"].threshold == 3
    keywords = set(by_trigger["keyword"].keywords)
    assert {"refund", "rimborso", "возврат", "Rückerstattung"} <= keywords
    assert all(r.created_at < END for r in rules)
    routes = RoutingRule.objects.filter(brand=demo)
    assert {r.topic for r in routes} == {"refund", "delivery"}
    assert {r.owner.email for r in routes} == {"cx@demo.opencx.org"}
    policies = {
        p.priority: (p.acknowledge_hours, p.resolve_hours)
        for p in SlaPolicy.objects.filter(brand=demo)
    }
    assert policies == closed_loop.SLA


def test_every_status_is_present_with_some_open_cases_overdue_and_escalated(demo):
    cases = _cases(demo)
    assert set(cases.values_list("status", flat=True)) == set(Case.Status.values)
    open_cases = cases.filter(status__in=Case.OPEN_STATUSES)
    overdue = open_cases.filter(due_at__lt=END)
    assert overdue.exists()
    assert open_cases.filter(due_at__gte=END).exists()
    # The escalation job runs every five minutes: every case open past its due date was escalated.
    assert not overdue.filter(escalated_at__isnull=True).exists()
    cx = User.objects.get(email="cx@demo.opencx.org")
    escalated = cases.filter(escalated_at__isnull=False)
    assert escalated.filter(status__in=["resolved", "closed"]).exists()
    for case in escalated:
        assert case.escalated_to == cx
        assert case.due_at <= case.escalated_at <= case.due_at + timedelta(minutes=5)
        left = case.resolved_at or case.closed_at or END
        assert case.escalated_at < left
        assert case.events.filter(kind="escalated", at=case.escalated_at).count() == 1
    assert not cases.filter(escalated_at__isnull=True, events__kind="escalated").exists()


def test_a_customer_has_at_most_one_open_case(demo):
    open_cases = _cases(demo).filter(status__in=Case.OPEN_STATUSES, contact__isnull=False)
    assert not open_cases.values("contact").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_timestamps_follow_the_lifecycle_and_stop_at_the_demo_now(demo):
    for case in _cases(demo):
        stamps = [getattr(case, name) for name in STAMPS]
        present = [s for s in stamps if s is not None]
        assert present == sorted(present), (case.pk, case.status, stamps)
        assert all(s < END for s in present)
        assert case.opened_at < case.acknowledge_due_at <= case.due_at
        expected = {
            "new": [],
            "acknowledged": ["acknowledged_at"],
            "in_progress": ["acknowledged_at", "in_progress_at"],
            "resolved": ["acknowledged_at", "resolved_at"],
            "closed": ["acknowledged_at", "closed_at"],
        }[case.status]
        for name in expected:
            assert getattr(case, name) is not None, (case.pk, case.status, name)
        if case.status in ("new", "acknowledged", "in_progress"):
            assert case.resolved_at is None and case.closed_at is None
        if case.status == "new":
            assert case.acknowledged_at is None


def test_cases_open_after_their_source_and_each_item_joins_one_case(demo):
    sources = CaseSource.objects.filter(case__brand=demo).select_related(
        "case", "response", "feedback"
    )
    assert sources.count() >= _cases(demo).count()
    assert not _cases(demo).filter(sources__isnull=True).exists()
    for source in sources:
        seen = source.response.completed_at if source.response else source.feedback.received_at
        assert seen < source.added_at < END
        assert source.case.opened_at <= source.added_at
        assert source.rule.created_at <= seen
    opening = {s.case_id: s for s in sources.order_by("added_at", "pk")[::-1]}
    for case in _cases(demo):
        assert opening[case.pk].added_at == case.opened_at


def test_the_opening_rule_matches_its_source_as_the_services_decide(demo):
    cases = list(_cases(demo).select_related("rule", "location").order_by("pk"))
    for case in random.Random(1).sample(cases, 60):
        source = case.sources.order_by("added_at", "pk").first()
        if source.response_id:
            response = (
                Response.objects.select_related("survey", "location")
                .prefetch_related("answers__question")
                .get(pk=source.response_id)
            )
            assert services.rule_matches_response(case.rule, response)
            assert case.trigger_score == response.score and case.survey_id == response.survey_id
            item_location, contact = response.location_id, response.contact_id
        else:
            item = FeedbackItem.objects.select_related("location").get(pk=source.feedback_id)
            assert services.rule_matches_feedback(case.rule, item)
            item_location, contact = item.location_id, item.contact_id
        assert (case.location_id, case.contact_id) == (item_location, contact)
        # The first matching rule by position opened it, with its SLA counted from the opening.
        assert (case.acknowledge_due_at, case.due_at) == services._due_dates(
            case.location, case.rule.priority, case.opened_at
        )


def test_responses_without_a_case_match_no_rule_that_was_live(demo):
    rules = list(CaseRule.objects.filter(brand=demo))
    since = min(r.created_at for r in rules)
    left = list(
        Response.objects.filter(
            brand=demo, is_partial=False, completed_at__gte=since, case_source__isnull=True
        )
        .exclude(completed_at__gte=END - timedelta(minutes=15))  # the job had not run yet
        .select_related("survey", "location")
        .prefetch_related("answers__question")
        .order_by("pk")
    )
    assert len(left) > 100
    for response in random.Random(2).sample(left, 150):
        live = [r for r in rules if r.created_at <= response.completed_at]
        assert not any(services.rule_matches_response(r, response) for r in live), response.pk


def test_owners_are_members_who_can_work_the_location(demo):
    pairs = _cases(demo).values_list("owner", "location").distinct()
    assert pairs
    for owner_id, location_id in pairs:
        case = _cases(demo).filter(owner_id=owner_id, location_id=location_id).first()
        assert owner_id is not None
        assert services._can_work(case.owner, case.location)
    # Cardiff has its own manager; the refund route sends refunds there to the CX manager.
    cardiff = _cases(demo).filter(location__code="cardiff")
    assert cardiff.filter(owner__email="manager.cardiff@demo.opencx.org").exists()
    cases = list(_cases(demo).select_related("location", "owner").order_by("pk"))
    for case in random.Random(3).sample(cases, 60):  # default_owner queries: a sample
        assert case.owner == services.default_owner(
            location=case.location, touchpoint_id=case.touchpoint_id, text=_text(case)
        )


def _text(case) -> str:
    source = case.sources.order_by("added_at", "pk").first()
    if source.response_id:
        return services._response_text(source.response)
    return f"{source.feedback.title}\n{source.feedback.text}"


def test_resolved_and_closed_cases_record_root_cause_and_resolution(demo):
    categories = set(Case.RootCause.values)
    resolved = _cases(demo).filter(resolved_at__isnull=False)
    assert resolved.count() > 50
    for case in resolved:
        assert case.root_cause in categories
        assert case.what_happened and case.why and case.change_after and case.resolution
        assert case.happened_at is not None and case.happened_at <= case.opened_at
    found = set(resolved.values_list("root_cause", flat=True))
    assert {"delivery", "waiting"} <= found
    # The planted driver: returns and deliveries are the commonest cause.
    top = resolved.values("root_cause").annotate(n=Count("id")).order_by("-n").first()
    assert top["root_cause"] == "delivery"
    # Closing without resolving says why, in the status change.
    for case in _cases(demo).filter(status="closed", resolved_at__isnull=True):
        change = case.events.filter(kind="status", data__after="closed").get()
        assert change.body
    open_cases = _cases(demo).filter(status__in=Case.OPEN_STATUSES)
    assert not open_cases.exclude(resolution="").exists()


def test_timelines_tell_the_story_in_order(demo):
    events = CaseEvent.objects.filter(case__brand=demo)
    kinds = set(events.values_list("kind", flat=True))
    assert {"opened", "status", "note", "reply", "root_cause", "escalated", "resurvey"} <= kinds
    assert "outcome" in kinds
    assert not events.filter(at__gte=END).exists()
    replies = events.filter(kind="reply")
    assert set(replies.values_list("delivery", flat=True)) == {"sent"}
    assert not replies.filter(message_id="").exists()
    assert not replies.filter(actor__isnull=True).exists()
    for case in _cases(demo).prefetch_related("events"):
        timeline = list(case.events.all())
        assert timeline[0].kind == "opened" and timeline[0].at == case.opened_at
        statuses = [e for e in timeline if e.kind == "status"]
        before = "new"
        for change in statuses:
            assert change.data["before"] == before
            assert change.data["after"] in services.TRANSITIONS[before]
            before = change.data["after"]
        assert before == case.status
        for change in statuses:
            assert getattr(case, services.STAMPS[change.data["after"]]) == change.at


def test_re_surveys_win_some_customers_back_and_not_others(demo):
    cases = _cases(demo)
    assert cases.filter(recovered=True).exists()
    assert cases.filter(recovered=False).exists()
    answered = cases.filter(recovered__isnull=False).select_related("resurvey_invitation", "survey")
    for case in answered:
        assert case.status in ("resolved", "closed") and case.resolved_at is not None
        invitation = case.resurvey_invitation
        assert invitation.status == Invitation.Status.RESPONDED
        assert case.resolved_at < invitation.sent_at < invitation.responded_at < END
        kind = case.survey.kind if case.survey else "nps"
        if kind == "nps":
            assert case.recovered == (case.resurvey_score >= services.NPS_RECOVERED_MIN)
        outcome = case.events.get(kind="outcome")
        assert outcome.data == {"score": case.resurvey_score, "recovered": case.recovered}
    open_cases = cases.filter(status__in=Case.OPEN_STATUSES)
    assert not open_cases.filter(resurvey_invitation__isnull=False).exists()
    skipped = Invitation.objects.filter(brand=demo, status="skipped")
    assert not skipped.exclude(skip_reason__startswith="no ").exists()
