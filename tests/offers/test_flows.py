"""Running playbooks: through the events the survey service emits, a real SMTP server (aiosmtpd
on loopback) and the task; exactly once however often the event or the task comes."""

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from opencx.offers import flows
from opencx.offers.models import Coupon, PlaybookRun
from opencx.offers.tasks import run_playbooks
from opencx.platform.events import emit
from opencx.surveys.services import RESPONSE_COMPLETED, survey_opt_out
from tests.factories import LocationFactory, RecordedResponseFactory

from .factories import CouponFactory, CouponPoolFactory, PlaybookFactory

pytestmark = pytest.mark.usefixtures("immediate_tasks")


@pytest.fixture
def pool(brand):
    pool = CouponPoolFactory(brand=brand, offer="10% off your next visit", valid_days=30)
    for code in ("AAA111", "BBB222", "CCC333"):
        CouponFactory(pool=pool, code=code)
    return pool


@pytest.fixture
def passive_playbook(brand, pool):
    return PlaybookFactory(brand=brand, segment="passive", action="coupon", coupon_pool=pool)


@pytest.fixture
def review_playbook(brand, store):
    store.review_url = "https://reviews.example.test/milano"
    store.save()
    return PlaybookFactory(brand=brand, segment="promoter", action="review")


def _text(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message):
    return message.get_body(preferencelist=("html",)).get_content()


def test_a_passive_gets_one_coupon_by_e_mail_with_its_expiry(
    passive_playbook, customer, answer, smtp_server, brand
):
    response = answer(customer(), 8)

    run = PlaybookRun.objects.get(response=response)
    assert run.status == "sent" and run.segment == "passive" and run.action == "coupon"
    coupon = Coupon.objects.get(response=response)
    assert run.coupon == coupon and coupon.code == "AAA111"
    assert coupon.contact == response.contact and coupon.issued_location == response.location
    assert coupon.issued_at == run.sent_at
    assert coupon.expires_at == coupon.issued_at + timedelta(days=30)
    [message] = smtp_server.messages
    assert smtp_server.envelopes[0].rcpt_tos == ["ada@example.test"]
    assert message["Subject"] == "Bottega: a thank-you for your next visit"
    text, html = _text(message), _html(message)
    assert "AAA111" in text and "10% off your next visit" in text
    assert "<strong>AAA111</strong>" in html
    last_day = (coupon.expires_at.astimezone(timezone.get_current_timezone())).date()
    assert "Valid until" in text and str(last_day.year) in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.search(r"https://127\.0\.0\.1:8000/o/u/[\w-]+", text)


def test_the_event_delivered_twice_sends_one_e_mail_and_issues_one_coupon(
    passive_playbook, customer, answer, smtp_server, django_capture_on_commit_callbacks
):
    response = answer(customer(), 7)
    with django_capture_on_commit_callbacks(execute=True):
        emit(RESPONSE_COMPLETED, response_id=response.pk, brand_id=response.brand_id)
        emit(RESPONSE_COMPLETED, response_id=response.pk, brand_id=response.brand_id)

    assert PlaybookRun.objects.filter(response=response).count() == 1
    assert Coupon.objects.filter(issued_at__isnull=False).count() == 1
    assert len(smtp_server.messages) == 1


def test_the_task_run_twice_sends_one_e_mail_and_issues_one_coupon(
    passive_playbook, customer, nps_survey, store, smtp_server
):
    # Recorded without running its commit hooks: the task is then run by hand, twice.
    response = RecordedResponseFactory(
        survey=nps_survey, location=store, contact=customer(), score=8
    )
    assert run_playbooks.call(response.pk) == "sent"
    assert run_playbooks.call(response.pk) == ""

    assert PlaybookRun.objects.get(response=response).status == "sent"
    assert Coupon.objects.filter(issued_at__isnull=False).count() == 1
    assert len(smtp_server.messages) == 1


def test_a_worker_that_loses_the_race_for_a_code_takes_the_next(
    passive_playbook, pool, customer, nps_survey, store, smtp_server
):
    """Another worker takes the first free code between our read and our UPDATE."""
    from opencx.offers import services

    response = RecordedResponseFactory(
        survey=nps_survey, location=store, contact=customer(), score=8
    )
    first = Coupon.objects.get(code="AAA111")
    real_update = Coupon.objects.filter(pk=first.pk).update

    other = RecordedResponseFactory(
        survey=nps_survey, location=store, contact=customer("bo@example.test"), score=7
    )
    original = services.Coupon.objects.filter

    def filter_then_steal(*args, **kwargs):
        if kwargs.get("pk") == first.pk and kwargs.get("issued_at__isnull"):
            real_update(issued_at=timezone.now(), response=other)  # the other worker wins
        return original(*args, **kwargs)

    services.Coupon.objects.filter = filter_then_steal
    try:
        coupon = services.coupon_issue(pool=pool, response=response, now=timezone.now())
    finally:
        del services.Coupon.objects.filter
    assert coupon.code == "BBB222"
    assert Coupon.objects.get(code="AAA111").response == other


@pytest.mark.django_db(transaction=True)
def test_concurrent_tasks_for_the_same_response_issue_one_coupon(
    brand, store, make_survey, smtp_server, immediate_tasks
):
    if connection.vendor == "sqlite":
        # The SQLite test database is in memory with a shared cache, whose table locks fail at
        # once instead of waiting; the claim is the same unique row and conditional UPDATE.
        pytest.skip("concurrent writers need a database file or a server")
    from tests.factories import ContactFactory, IdentityFactory

    pool = CouponPoolFactory(brand=brand)
    for n in range(5):
        CouponFactory(pool=pool, code=f"RACE{n}")
    PlaybookFactory(brand=brand, segment="passive", action="coupon", coupon_pool=pool)
    survey, _headline, _ = make_survey("nps")
    contact = ContactFactory(brand=brand, consent_email=True)
    IdentityFactory(contact=contact, value="race@example.test")
    response = RecordedResponseFactory(survey=survey, location=store, contact=contact, score=8)
    start, errors = threading.Barrier(4), []

    def worker():
        try:
            start.wait()
            flows.playbooks_run(response_id=response.pk)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert PlaybookRun.objects.filter(response=response).count() == 1
    assert Coupon.objects.filter(issued_at__isnull=False).count() == 1
    assert len(smtp_server.messages) == 1


def test_an_empty_pool_skips_the_run_with_the_reason(
    brand, passive_playbook, pool, customer, answer, smtp_server
):
    pool.coupons.update(issued_at=timezone.now())
    CouponFactory(pool=pool, code="OLD999", expires_at=timezone.now() - timedelta(days=1))

    run = PlaybookRun.objects.get(response=answer(customer(), 8))
    assert run.status == "skipped" and run.skip_reason == "the coupon pool is empty"
    assert run.coupon is None and smtp_server.messages == []


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ({"consent": False}, "no e-mail consent"),
        ({"email": ""}, "no e-mail address"),
        ({"opt_out": True}, "unsubscribed from surveys"),
    ],
)
def test_customers_who_may_not_be_e_mailed_are_skipped_with_the_reason(
    passive_playbook, customer, answer, smtp_server, setup, reason
):
    opt_out = setup.pop("opt_out", False)
    contact = customer(**setup)
    if opt_out:
        survey_opt_out(contact=contact)

    run = PlaybookRun.objects.get(response=answer(contact, 8))
    assert (run.status, run.skip_reason) == ("skipped", reason)
    assert smtp_server.messages == [] and not Coupon.objects.filter(issued_at__isnull=False)


def test_a_review_playbook_needs_the_locations_review_page(
    brand, store, customer, answer, smtp_server
):
    PlaybookFactory(brand=brand, segment="promoter", action="review")

    run = PlaybookRun.objects.get(response=answer(customer(), 10))
    assert (run.status, run.skip_reason) == ("skipped", "the location has no review page")


def test_a_promoter_gets_a_tracked_review_link_in_their_language(
    review_playbook, customer, answer, smtp_server
):
    review_playbook.email_subject = {"it": "Grazie, {name}!", "en": "Thanks, {name}!"}
    review_playbook.email_body = {
        "it": "Ciao {name},\n\nci lasci una recensione? {link}\n\n{brand} {resta}",
        "en": "Hello {name}, review us: {link}",
    }
    review_playbook.save()

    response = answer(customer(language="it"), 9)
    run = PlaybookRun.objects.get(response=response)
    [message] = smtp_server.messages
    assert message["Subject"] == "Grazie, Ada!" and message["Content-Language"] == "it"
    link = f"https://127.0.0.1:8000/o/r/{run.token}"
    text = _text(message)
    assert f"ci lasci una recensione? {link}" in text and "{resta}" in text
    assert f'href="{link}"' in _html(message)


def test_a_detractor_is_handed_to_cases_without_an_e_mail(brand, customer, answer, smtp_server):
    PlaybookFactory(brand=brand, segment="detractor", action="case")

    run = PlaybookRun.objects.get(response=answer(customer(), 3))
    assert run.status == "handed" and run.action == "case"
    assert smtp_server.messages == []


def test_a_location_override_wins_for_its_subtree_and_an_inactive_one_switches_it_off(
    brand, region, store, sibling_store, customer, answer, smtp_server, pool
):
    PlaybookFactory(brand=brand, segment="promoter", action="referral")
    region_playbook = PlaybookFactory(
        brand=brand, location=region, segment="promoter", action="review"
    )
    PlaybookFactory(
        brand=brand, location=sibling_store, segment="promoter", action="referral", is_active=False
    )
    store.review_url = "https://reviews.example.test/milano"
    store.save()
    elsewhere = LocationFactory(brand=brand, name="Roma", code="roma")

    at_store = PlaybookRun.objects.get(response=answer(customer(), 10))
    at_other = PlaybookRun.objects.get(
        response=answer(customer("bo@example.test"), 9, location=elsewhere)
    )
    off = answer(customer("cy@example.test"), 9, location=sibling_store)

    assert at_store.playbook == region_playbook and at_store.action == "review"
    assert at_other.playbook.location is None and at_other.action == "referral"
    assert not PlaybookRun.objects.filter(response=off).exists()


def test_only_complete_nps_responses_with_a_contact_run_a_playbook(
    brand,
    store,
    passive_playbook,
    customer,
    answer,
    make_survey,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    from opencx.surveys.services import response_update

    csat, headline, _ = make_survey("csat")
    with django_capture_on_commit_callbacks(execute=True):
        RecordedResponseFactory(survey=csat, location=store, contact=customer(), score=4)
    anonymous = answer(None, 8)
    partial = answer(customer("bo@example.test"), 8, is_partial=True)
    assert PlaybookRun.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        response_update(response=partial, answers={}, complete=True)
    assert PlaybookRun.objects.get().response == partial
    assert not PlaybookRun.objects.filter(response=anonymous).exists()
    assert len(smtp_server.messages) == 1


def test_an_imported_old_response_runs_no_playbook(passive_playbook, customer, answer):
    answer(customer(), 8, created_at=timezone.now() - timedelta(days=30))
    assert PlaybookRun.objects.count() == 0


def test_a_refused_e_mail_fails_the_run_and_puts_the_coupon_back(
    passive_playbook, pool, customer, nps_survey, store
):
    response = RecordedResponseFactory(
        survey=nps_survey, location=store, contact=customer(), score=8
    )
    # Nothing listens on port 9 (discard) on loopback: the connection is refused.
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=9,
        EMAIL_TIMEOUT=2,
    ):
        run = flows.playbooks_run(response_id=response.pk)

    assert run.status == "failed" and run.error
    assert PlaybookRun.objects.get(pk=run.pk).coupon is None
    code = Coupon.objects.get(code="AAA111")
    assert code.issued_at is None and code.response is None and code.expires_at is None


def test_the_event_enqueues_a_task_only_for_responses_that_could_run_a_playbook(
    brand, pool, customer, answer
):
    from django_tasks_db.models import DBTaskResult

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        answer(customer(), 8)  # the brand has no playbook yet
        answer(None, 8)
        ours = DBTaskResult.objects.filter(task_path="opencx.offers.tasks.run_playbooks")
        assert not ours.exists()
        PlaybookFactory(brand=brand, segment="passive", action="coupon", coupon_pool=pool)
        answer(None, 8)  # anonymous
        response = answer(customer("bo@example.test"), 8)
        [queued] = ours.all()
    assert queued.args_kwargs["args"] == [response.pk]
