"""The demo's playbooks and integrations: configured as the services make them, runs as the flow
would have made them, outcomes that the selectors read, and a webhook that never sends."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Count, Q

from opencx.cases import report_selectors
from opencx.cases.models import Case, CaseSource
from opencx.cases.services import keyword_found
from opencx.contacts.models import Contact, Identity
from opencx.demo import playbooks
from opencx.demo.closed_loop import KEYWORDS
from opencx.feedback.models import FeedbackItem
from opencx.integrations.flows import body_for
from opencx.integrations.models import NotificationPreference, WebhookDelivery, WebhookEndpoint
from opencx.integrations.signing import HEADER, verify_signature
from opencx.offers import selectors
from opencx.offers.models import Coupon, CouponPool, Playbook, PlaybookRun, segment_of
from opencx.offers.services import review_completions_match
from opencx.platform.models import Channel, Location, User
from opencx.platform.selectors import actor_for
from opencx.surveys.models import Invitation, Response, SurveyOptOut

from .conftest import END_DATE

pytestmark = pytest.mark.django_db

END = datetime.fromisoformat(END_DATE).replace(tzinfo=UTC)
R = PlaybookRun.Status


def _owner(brand):
    return actor_for(user=User.objects.get(email="owner@demo.opencx.org"), brand_slug=brand.slug)


def _runs(brand):
    return PlaybookRun.objects.filter(brand=brand)


def _live(brand) -> datetime:
    return min(Playbook.objects.filter(brand=brand).values_list("created_at", flat=True))


def test_every_segment_has_a_playbook_and_the_italian_stores_refer_friends(demo):
    defaults = {p.segment: p for p in Playbook.objects.filter(brand=demo, location__isnull=True)}
    assert {s: p.action for s, p in defaults.items()} == {
        "promoter": "review",
        "passive": "coupon",
        "detractor": "case",
    }
    assert all(p.is_active for p in defaults.values())
    pool = defaults["passive"].coupon_pool
    assert pool.offer == "10% off your next visit" and pool.valid_days == 30
    assert Coupon.objects.filter(pool=pool).count() == playbooks.POOL["count"]
    assert CouponPool.objects.filter(brand=demo).count() == 1
    (override,) = Playbook.objects.filter(brand=demo, location__isnull=False)
    assert (override.segment, override.action) == ("promoter", "referral")
    assert override.location.code == playbooks.OVERRIDE_REGION
    assert override.created_at > _live(demo)
    # Review invitations need the stores' review pages.
    stores = Location.objects.filter(brand=demo, kind__in=["store", "online"])
    assert not stores.filter(review_url="").exists()
    assert _live(demo) == END - timedelta(days=playbooks.LIVE_DAYS) - timedelta(minutes=20)


def test_one_run_per_nps_response_from_a_contact_since_the_playbooks_went_live(demo):
    live = _live(demo)
    expected = Response.objects.filter(
        brand=demo,
        survey__kind="nps",
        is_partial=False,
        contact__isnull=False,
        completed_at__gte=live,
        completed_at__lt=END,
    )
    runs = _runs(demo).select_related("response", "playbook", "location")
    assert runs.count() > 100
    ran = set(runs.values_list("response_id", flat=True))
    assert ran <= set(expected.values_list("pk", flat=True))
    # The only ones without a run came before their segment's playbook was set up.
    defaults = {p.segment: p for p in Playbook.objects.filter(brand=demo, location__isnull=True)}
    for response in expected.exclude(pk__in=ran):
        assert response.completed_at < defaults[segment_of(response.score)].created_at
    override = Playbook.objects.get(brand=demo, location__isnull=False)
    for run in runs:
        response = run.response
        assert (run.contact_id, run.location_id) == (response.contact_id, response.location_id)
        assert run.segment == segment_of(response.score)
        assert response.completed_at <= run.created_at < END
        assert run.playbook.created_at <= run.created_at
        italian = run.location.path.startswith(override.location.path)
        if run.segment == "promoter" and italian and run.created_at >= override.created_at:
            assert run.playbook == override
        else:
            assert run.playbook.location_id is None
        assert run.action == run.playbook.action
    assert len(set(runs.values_list("token", flat=True))) == runs.count()


def _address(contact_id) -> str:
    return (
        Identity.objects.filter(contact_id=contact_id, kind=Identity.Kind.EMAIL)
        .order_by("-is_primary", "pk")
        .values_list("value", flat=True)
        .first()
        or ""
    )


def test_statuses_follow_consent_addresses_and_opt_outs(demo):
    runs = _runs(demo).select_related("contact")
    opted_out = dict(
        SurveyOptOut.objects.filter(brand=demo).values_list("contact_id", "created_at")
    )
    reasons = Counter()
    for run in runs:
        contact = run.contact
        unsubscribed = run.contact_id in opted_out and opted_out[run.contact_id] <= run.created_at
        if run.action == "case":
            assert run.status == R.HANDED and run.sent_at is None and not run.address
            continue
        assert run.address == _address(run.contact_id)
        reasons[run.skip_reason] += 1
        if run.skip_reason == "unsubscribed from surveys":
            assert unsubscribed
        elif run.skip_reason == "no e-mail consent":
            assert not unsubscribed and not contact.consent_email
        elif run.skip_reason == "no e-mail address":
            assert not unsubscribed and contact.consent_email and not run.address
        elif run.skip_reason == "the coupon pool is empty":
            assert run.action == "coupon" and run.address and contact.consent_email
        else:
            assert run.skip_reason == ""
            assert run.status in (R.SENT, R.FAILED)
            assert not unsubscribed and contact.consent_email and run.address
        if run.status == R.SENT:
            assert run.sent_at == run.created_at and not run.error
        else:
            assert run.sent_at is None and run.coupon_id is None
            assert run.clicked_at is None and run.completed_at is None
        if run.status == R.FAILED:
            assert run.error
    assert {"", "no e-mail consent", "no e-mail address", "unsubscribed from surveys"} <= set(
        reasons
    )
    assert reasons[""] > reasons["no e-mail consent"]


def test_no_survey_reached_a_contact_after_they_unsubscribed(demo):
    invited_by = Channel.objects.filter(brand=demo, kind__in=["email", "sms"])
    opt_outs = SurveyOptOut.objects.filter(brand=demo)
    assert opt_outs.exists()
    for contact_id, at in opt_outs.values_list("contact_id", "created_at"):
        assert at < END
        assert not Response.objects.filter(
            contact_id=contact_id, channel__in=invited_by, created_at__gt=at
        ).exists()
        assert not Invitation.objects.filter(contact_id=contact_id, sent_at__gt=at).exists()
        assert not _runs(demo).filter(contact_id=contact_id, sent_at__gt=at).exists()


def test_detractors_are_handed_to_the_cases_their_responses_opened_or_joined(demo):
    handed = _runs(demo).filter(status=R.HANDED)
    assert handed.exists()
    assert not handed.exclude(segment="detractor").exists()
    sources = set(CaseSource.objects.filter(case__brand=demo).values_list("response_id", flat=True))
    assert set(handed.values_list("response_id", flat=True)) <= sources


def test_each_passive_sent_a_coupon_got_one_and_redeemed_ones_were_used_in_time(demo):
    coupon_runs = _runs(demo).filter(action="coupon")
    sent = coupon_runs.filter(status=R.SENT).select_related("coupon")
    assert sent.exists()
    assert not sent.filter(coupon__isnull=True).exists()
    assert not coupon_runs.exclude(status=R.SENT).filter(coupon__isnull=False).exists()
    issued = Coupon.objects.filter(brand=demo, issued_at__isnull=False)
    assert issued.count() == sent.count()
    # At most one coupon per response (the database holds it too) and per run.
    assert not issued.values("response").annotate(n=Count("id")).filter(n__gt=1).exists()
    for run in sent:
        coupon = run.coupon
        assert coupon.response_id == run.response_id
        assert (coupon.contact_id, coupon.issued_location_id) == (run.contact_id, run.location_id)
        assert coupon.issued_at == run.sent_at
        assert coupon.expires_at == run.sent_at + timedelta(days=30)
    free = Coupon.objects.filter(brand=demo, issued_at__isnull=True)
    assert not free.filter(
        Q(contact__isnull=False) | Q(response__isnull=False) | Q(redeemed_at__isnull=False)
    ).exists()
    redeemed = issued.filter(redeemed_at__isnull=False)
    assert 0.15 <= redeemed.count() / issued.count() <= 0.5
    for coupon in redeemed.select_related("redeemed_location"):
        assert coupon.issued_at < coupon.redeemed_at < min(coupon.expires_at, END)
        assert coupon.redeemed_location.brand_id == demo.pk
        assert coupon.redemption_ref


def test_clicks_follow_sends_and_review_completions_are_the_matchers(demo):
    runs = _runs(demo)
    clicked = runs.filter(clicked_at__isnull=False)
    assert not clicked.exclude(status=R.SENT, action__in=["review", "referral"]).exists()
    for run in clicked:
        assert run.sent_at <= run.clicked_at < END
    completed = runs.filter(completed_at__isnull=False)
    assert not completed.filter(clicked_at__isnull=True).exists()
    reviewed = completed.filter(action="review")
    assert reviewed.exists()
    # The completions are exactly what `review_completions_match` finds: nothing left to mark.
    assert review_completions_match(brand_id=demo.pk) == 0
    for run in reviewed:
        review = (
            FeedbackItem.objects.filter(
                Q(location_id=run.location_id) | Q(location__isnull=True),
                contact_id=run.contact_id,
                kind="review",
                occurred_at__gte=run.clicked_at - timedelta(days=1),
            )
            .order_by("occurred_at")
            .first()
        )
        assert review is not None
        assert run.completed_at == max(review.occurred_at, run.clicked_at) < END
    # The reviews the invitations brought are praise, imported before now, and open no case.
    invited = FeedbackItem.objects.filter(brand=demo, external_id__contains="-invited-")
    assert invited.count() >= reviewed.count() > 0
    for review in invited:
        assert review.rating >= 4 and review.received_at < END
        assert not keyword_found(review.text, KEYWORDS)
    assert not CaseSource.objects.filter(feedback__in=invited).exists()


def test_referred_friends_are_new_contacts_of_the_promoters_store(demo):
    referred = _runs(demo).filter(action="referral", completed_at__isnull=False)
    assert referred.exists()
    assert not referred.filter(referred_contact__isnull=True).exists()
    for run in referred.select_related("referred_contact"):
        friend = run.referred_contact
        assert friend.brand_id == demo.pk and friend.home_location_id == run.location_id
        assert friend.created_at == run.completed_at
        assert friend.consent_email == (friend.consent_updated_at is not None)
        address = _address(friend.pk)
        assert address and address != run.address
    friends = Contact.objects.filter(brand=demo, referred_by__isnull=False)
    assert friends.count() == referred.count()


def test_outcomes_have_numbers_for_every_segment_and_add_up(demo):
    actor = _owner(demo)
    rows = selectors.playbook_outcomes(actor)
    totals = {t.segment: t for t in selectors.outcome_totals(rows)}
    assert set(totals) == {"promoter", "passive", "detractor"}
    promoters, passives, detractors = totals["promoter"], totals["passive"], totals["detractor"]
    assert sum(t.runs for t in totals.values()) == _runs(demo).count()
    assert 0 < promoters.completed < promoters.clicked < promoters.sent
    assert promoters.skipped > 0 and promoters.skip_reasons
    assert promoters.click_rate.pct is not None and promoters.conversion.pct is not None
    assert 0 < passives.coupons_redeemed < passives.coupons_issued == passives.sent
    assert detractors.handed == detractors.runs > 0
    assert all(t.clicked <= t.sent for t in totals.values())
    assert sum(t.next_n for t in totals.values()) > 0
    assert passives.moved_to("promoter").n == passives.next_n
    by_location = selectors.playbook_outcomes(actor, by_location=True)
    assert sum(o.sent for o in by_location) == sum(o.sent for o in rows)
    # The closed-loop dashboard's period (the last 30 days) has numbers too.
    recent = report_selectors.playbook_outcomes(actor, since=END - timedelta(days=30), until=END)
    assert {o.segment for o in recent} == {"promoter", "passive", "detractor"}


def test_the_example_webhook_is_disabled_and_its_log_is_the_flows(demo):
    (endpoint,) = WebhookEndpoint.objects.filter(brand=demo)
    assert endpoint.name == "n8n (example)" and endpoint.url == playbooks.N8N_URL
    assert not endpoint.is_active
    assert endpoint.events == ["case.opened"]
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("created_at"))
    assert [d.event for d in deliveries] == ["ping"] + ["case.opened"] * (len(deliveries) - 1)
    statuses = [(d.status, d.attempts) for d in deliveries]
    assert ("delivered", 1) in statuses and ("delivered", 2) in statuses
    assert statuses[-1] == ("gave_up", 2) and deliveries[-1].error == "The endpoint is disabled."
    # Nothing is due: the demo never sends anything.
    assert not WebhookDelivery.objects.filter(
        brand=demo, status__in=["pending", "sending", "failed"]
    ).exists()
    for delivery in deliveries:
        assert endpoint.created_at < delivery.created_at < END
        assert delivery.payload["event"] == delivery.event
        assert delivery.payload["id"] == delivery.event_id
        headers = delivery.request_headers
        assert headers["OpenCX-Delivery"] == str(delivery.pk)
        signed_at = int(headers[HEADER].split(",")[0].removeprefix("t="))
        assert verify_signature(
            secret=endpoint.secret,
            header=headers[HEADER],
            body=body_for(delivery, endpoint),
            now=signed_at,
        )
        if delivery.status == "delivered":
            assert delivery.response_code == 200 and not delivery.error
            assert delivery.created_at < delivery.delivered_at < END
        if delivery.event == "case.opened":
            data = delivery.payload["data"]
            case = Case.objects.get(pk=data["id"], brand=demo)
            assert data["status"] == "new" and data["opened_at"] == case.opened_at.isoformat()
            assert case.opened_at < delivery.created_at < case.opened_at + timedelta(seconds=5)
    preference = NotificationPreference.objects.get(brand=demo, user__email="owner@demo.opencx.org")
    assert preference.digest == "weekly"
