"""The links in playbook e-mails, as a customer's browser (and a hostile one) follows them."""

import pytest
from django.test import Client, override_settings

from opencx.contacts.models import Contact
from opencx.offers.models import Playbook, PlaybookRun
from opencx.surveys.models import SurveyOptOut
from tests.factories import ContactFactory, IdentityFactory, ResponseFactory

from .factories import PlaybookRunFactory


@pytest.fixture
def promoter(brand, store):
    contact = ContactFactory(brand=brand, language="it")
    IdentityFactory(contact=contact, value="ada@example.test")
    return contact


def _run(brand, store, contact, action, **fields):
    # One promoter playbook per place: the review one is the brand's, the referral one the store's.
    playbook, _created = Playbook.objects.get_or_create(
        brand=brand,
        location=store if action == "referral" else None,
        segment="promoter",
        defaults={"action": action},
    )
    return PlaybookRunFactory(
        playbook=playbook,
        response=ResponseFactory(survey__brand=brand, location=store, contact=contact),
        **fields,
    )


def test_the_review_link_records_the_first_click_and_redirects(client, brand, store, promoter):
    store.review_url = "https://reviews.example.test/milano?x=1"
    store.save()
    run = _run(brand, store, promoter, "review")

    response = client.get(f"/o/r/{run.token}")
    assert response.status_code == 302
    assert response["Location"] == "https://reviews.example.test/milano?x=1"
    run.refresh_from_db()
    first = run.clicked_at
    assert first is not None
    client.get(f"/o/r/{run.token}")
    run.refresh_from_db()
    assert run.clicked_at == first
    assert client.post(f"/o/r/{run.token}").status_code == 405


@pytest.mark.parametrize("token", ["nope", "x" * 40, "%C2%B2", "' OR 1=1 --"])
def test_unknown_or_hostile_tokens_are_404(client, db, token):
    assert client.get(f"/o/r/{token}").status_code == 404
    assert client.get(f"/o/f/{token}").status_code == 404


def test_links_of_a_run_that_was_not_sent_or_of_another_action_are_404(
    client, brand, store, promoter
):
    store.review_url = "https://reviews.example.test/milano"
    store.save()
    skipped = _run(brand, store, promoter, "review", status="skipped")
    referral = _run(brand, store, promoter, "referral")
    assert client.get(f"/o/r/{skipped.token}").status_code == 404
    assert client.get(f"/o/r/{referral.token}").status_code == 404


def test_a_friend_leaves_their_details_on_the_referral_page(brand, store, promoter):
    run = _run(brand, store, promoter, "referral")
    browser = Client(enforce_csrf_checks=True)

    page = browser.get(f"/o/f/{run.token}")
    assert page.status_code == 200 and page["Content-Language"] == "it"
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    run.refresh_from_db()
    assert run.clicked_at is not None  # opening the page counts as the click
    token = page.cookies["csrftoken"].value
    form = {"name": "Bo", "email": "bo@example.test", "consent": "1", "website": ""}

    assert browser.post(f"/o/f/{run.token}", form).status_code == 403  # no CSRF token
    done = browser.post(f"/o/f/{run.token}", {**form, "csrfmiddlewaretoken": token})
    assert done.status_code == 200
    run.refresh_from_db()
    friend = Contact.objects.get(identities__value="bo@example.test")
    assert run.completed_at is not None and run.referred_contact == friend
    assert friend.consent_email and friend.home_location == store
    # A used link thanks and stores nothing more.
    again = browser.post(
        f"/o/f/{run.token}", {**form, "email": "cy@example.test", "csrfmiddlewaretoken": token}
    )
    assert again.status_code == 200
    assert not Contact.objects.filter(identities__value="cy@example.test").exists()


@pytest.mark.parametrize(
    ("form", "shown"),
    [
        ({"name": "Bo", "email": "not-an-address"}, "is not an e-mail address"),
        ({"name": "", "email": "bo@example.test"}, "This field is required"),
        ({"name": "x" * 201, "email": "bo@example.test"}, "at most 200 characters"),
        ({"name": "Bo", "email": "ada@example.test"}, "your own address"),
        ({"name": "<script>", "email": "bo@example.test"}, "Give your name"),
    ],
)
def test_hostile_referral_input_is_refused_on_its_field(
    client, brand, store, promoter, form, shown
):
    promoter.language = "en"
    promoter.save()
    run = _run(brand, store, promoter, "referral")
    response = client.post(f"/o/f/{run.token}", form)
    assert response.status_code == 400
    assert shown in response.content.decode().replace("&#x27;", "'")
    assert PlaybookRun.objects.get(pk=run.pk).completed_at is None
    assert Contact.objects.count() == 1


def test_the_honeypot_stores_nothing(client, brand, store, promoter):
    run = _run(brand, store, promoter, "referral")
    form = {"name": "Bot", "email": "bot@example.test", "website": "http://spam.example"}
    assert client.post(f"/o/f/{run.token}", form).status_code == 200
    assert PlaybookRun.objects.get(pk=run.pk).completed_at is None
    assert Contact.objects.count() == 1


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "offers-ratelimit",
        }
    }
)
def test_referral_posts_are_rate_limited(client, brand, store, promoter, still_rate_window):
    from django.core.cache import cache

    cache.clear()
    run = _run(brand, store, promoter, "referral")
    statuses = [
        client.post(f"/o/f/{run.token}", {"name": "Bo", "email": "bad"}).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [400] * 10 and statuses[10:] == [429, 429]
    cache.clear()


def test_unsubscribing_from_a_playbook_e_mail(brand, store, promoter):
    run = _run(brand, store, promoter, "review")
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/o/u/{run.token}")
    assert page.status_code == 200 and not SurveyOptOut.objects.exists()
    assert browser.post(f"/o/u/{run.token}").status_code == 403
    # The one-click POST of a mail provider (RFC 8058) needs no CSRF token.
    one_click = browser.post(f"/o/u/{run.token}", {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert SurveyOptOut.objects.filter(contact=promoter).exists()
