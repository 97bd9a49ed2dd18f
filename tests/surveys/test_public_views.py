"""The hosted survey pages as a respondent uses them: links, steps, languages, hostile input."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencx.insights.models import ResponseRollup
from opencx.surveys.definitions import library
from opencx.surveys.models import Answer, Response
from opencx.surveys.services import link_ensure, survey_import

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def nps_survey(owner_actor):
    return survey_import(actor=owner_actor, spec=library()["nps"])


@pytest.fixture
def link(owner_actor, nps_survey, store):
    return link_ensure(actor=owner_actor, survey=nps_survey, location=store)


def _url(link):
    return reverse("survey_public:start", kwargs={"token": link.token})


def _field(survey, key):
    return f"q-{survey.questions.get(key=key).pk}"


def test_a_detractor_answers_in_italian_and_the_follow_up_is_what_went_wrong(
    client, link, nps_survey
):
    page = client.get(_url(link) + "?lang=it")
    assert page.status_code == 200
    assert page["Content-Language"] == "it"
    assert "Quanto è probabile" in page.content.decode()
    assert "Avanti" in page.content.decode() or "Next" in page.content.decode()

    saved = client.post(_url(link) + "?lang=it", {_field(nps_survey, "nps"): "3"})
    assert saved.status_code == 303
    response = Response.objects.get()
    assert (response.score, response.is_partial, response.language) == (3, True, "it")
    assert response.link == link and response.location == link.location

    follow_up = client.get(saved["Location"])
    body = follow_up.content.decode()
    assert "Che cosa è andato storto?" in body
    assert "Che cosa ti è piaciuto" not in body  # the promoters' question is not shown

    finished = client.post(
        saved["Location"],
        {
            _field(nps_survey, "went_wrong"): "<b>Coda</b> lunghissima",
            _field(nps_survey, "contact_ok"): "yes",
        },
    )
    assert finished.status_code == 303
    response.refresh_from_db()
    assert response.is_partial is False and response.completed_at is not None
    assert response.comment == "Coda lunghissima"  # HTML stripped
    assert response.contact_permission is True
    done = client.get(finished["Location"])
    assert done.status_code == 200


def test_an_abandoned_comment_leaves_a_partial_response_counted_once_in_the_rollups(
    client, link, nps_survey
):
    client.post(_url(link), {_field(nps_survey, "nps"): "10"})
    response = Response.objects.get()
    assert response.is_partial
    rollup = ResponseRollup.objects.get(question__key="nps")
    assert (rollup.n, rollup.promoters) == (1, 1)


def test_invalid_score_gets_a_message_in_the_respondents_language_and_nothing_is_stored(
    client, link, nps_survey
):
    page = client.post(_url(link) + "?lang=de", {_field(nps_survey, "nps"): "11"})
    assert page.status_code == 422
    assert "0" in page.content.decode() and Response.objects.count() == 0


def test_a_follow_up_error_keeps_the_score_already_given(client, link, nps_survey):
    saved = client.post(_url(link), {_field(nps_survey, "nps"): "2"})
    page = client.post(saved["Location"], {_field(nps_survey, "went_wrong"): "x" * 6000})
    assert page.status_code == 422
    response = Response.objects.get()
    assert response.score == 2 and response.is_partial
    assert "x" * 100 in page.content.decode()  # what they typed is shown back


def test_language_comes_from_the_link_then_the_browser_then_the_default(client, link):
    assert client.get(_url(link) + "?lang=cy")["Content-Language"] == "cy"
    browser = client.get(_url(link), HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9,en;q=0.5")
    assert browser["Content-Language"] == "ru"
    unknown = client.get(_url(link), HTTP_ACCEPT_LANGUAGE="ja")
    assert unknown["Content-Language"] == "en"


def test_honeypot_submission_is_thanked_but_not_stored(client, link, nps_survey):
    page = client.post(_url(link), {_field(nps_survey, "nps"): "9", "website": "http://spam"})
    assert page.status_code == 200
    assert Response.objects.count() == 0


def test_csrf_is_enforced_on_the_public_submit(link, nps_survey):
    strict = Client(enforce_csrf_checks=True)
    refused = strict.post(_url(link), {_field(nps_survey, "nps"): "9"})
    assert refused.status_code == 403
    assert Response.objects.count() == 0


@override_settings(CACHES=LOCMEM, SURVEY_RATE_PER_IP=3)
def test_submissions_are_rate_limited_per_address(client, link, nps_survey, still_rate_window):
    from django.core.cache import cache

    cache.clear()
    codes = [
        client.post(_url(link), {_field(nps_survey, "nps"): "9"}).status_code for _ in range(5)
    ]
    assert codes == [303, 303, 303, 429, 429]
    assert Response.objects.count() == 3


def test_promoter_is_invited_to_review_and_the_click_is_recorded(client, link, nps_survey, store):
    store.review_url = "https://reviews.example/bottega-cardiff"
    store.save()
    saved = client.post(_url(link), {_field(nps_survey, "nps"): "10"})
    finished = client.post(saved["Location"], {_field(nps_survey, "loved"): "Tutto"})
    done = client.get(finished["Location"])
    review_url = done.context["review_url"]
    assert review_url
    hop = client.get(review_url)
    assert hop.status_code == 302 and hop["Location"] == store.review_url
    assert Response.objects.get().review_clicked_at is not None


def test_a_complete_response_cannot_be_changed_through_its_page(client, link, nps_survey):
    saved = client.post(_url(link), {_field(nps_survey, "nps"): "4"})
    client.post(saved["Location"], {_field(nps_survey, "went_wrong"): "slow"})
    again = client.post(saved["Location"], {_field(nps_survey, "went_wrong"): "changed"})
    assert again.status_code == 303
    assert Response.objects.get().comment == "slow"


def test_a_tampered_response_reference_is_404(client, link, nps_survey):
    saved = client.post(_url(link), {_field(nps_survey, "nps"): "4"})
    assert client.get(saved["Location"].replace(":", ":x", 1)).status_code == 404


def test_qr_codes_are_served_as_svg_and_png(client, link):
    svg = client.get(reverse("survey_public:qr", kwargs={"token": link.token, "fmt": "svg"}))
    png = client.get(reverse("survey_public:qr", kwargs={"token": link.token, "fmt": "png"}))
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    bad = client.get(reverse("survey_public:qr", kwargs={"token": link.token, "fmt": "gif"}))
    assert bad.status_code == 404


def test_embed_script_carries_the_question_and_the_link(client, link):
    script = client.get(reverse("survey_public:embed", kwargs={"token": link.token}))
    assert script["Content-Type"].startswith("application/javascript")
    body = script.content.decode()
    assert link.token in body and "How likely are you to recommend us" in body


def test_the_first_page_is_light(client, link):
    page = client.get(_url(link))
    assert len(page.content) < 100_000  # the budget for the first load (HTML + CSS)


def test_unknown_or_inactive_link_is_404(client, link):
    link.is_active = False
    link.save()
    assert client.get(_url(link)).status_code == 404
    assert client.get("/s/not-a-token/").status_code == 404


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.dictionaries(
        st.one_of(st.sampled_from(["q-1", "q-2", "website", "lang"]), st.text(max_size=12)),
        st.one_of(st.text(max_size=300), st.lists(st.text(max_size=20), max_size=4)),
        max_size=6,
    )
)
def test_arbitrary_payloads_never_500_and_never_leave_a_corrupt_row(
    client, link, nps_survey, payload
):
    fields = {f"q-{q.pk}": q for q in nps_survey.questions.all()}
    keys = list(fields)
    remapped = {}
    for name, value in payload.items():
        if name in ("q-1", "q-2"):
            name = keys[int(name[-1]) - 1]
        remapped[name] = value
    before = Response.objects.count()
    page = client.post(_url(link), remapped)
    assert page.status_code in (200, 303, 422)
    if page.status_code == 303:
        assert Response.objects.count() == before + 1
    for response in Response.objects.all():
        answers = list(Answer.objects.filter(response=response))
        assert answers, "a stored response always has an answer"
        for answer in answers:
            question = answer.question
            if question.is_scaled:
                assert question.scale_min <= answer.score <= question.scale_max


def test_members_see_links_with_qr_codes_and_managers_make_them(
    client, owner, owner_actor, nps_survey, store, make_actor
):
    client.force_login(owner)
    url = reverse("surveys:links", args=[owner_actor.brand.slug, nps_survey.pk])
    made = client.post(url, {"location": store.pk})
    assert made.status_code == 302
    page = client.get(url)
    link = nps_survey.links.get()
    assert link.location == store
    assert link.token in page.content.decode() and "qr.svg" in page.content.decode()
    again = client.post(url, {"location": store.pk})  # the same placement gives the same link
    assert again.status_code == 302 and nps_survey.links.count() == 1
    viewer = make_actor("viewer")
    client.force_login(viewer.user)
    assert client.post(url, {"location": store.pk}).status_code == 403
    assert client.get(url).status_code == 200


def test_the_database_refuses_a_second_link_for_the_same_placement(link):
    from django.db import IntegrityError, transaction

    from opencx.surveys.models import SurveyLink

    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyLink.objects.create(
            brand=link.brand, survey=link.survey, location=link.location, token="another-token"
        )


def test_without_branching_the_score_is_still_saved_before_the_comment(
    client, make_survey, store, owner_actor
):
    survey, headline, follow_up = make_survey("csat")
    survey.languages = ["en"]
    survey.save()
    link = link_ensure(actor=owner_actor, survey=survey, location=store)
    first = client.get(_url(link))
    assert f'name="q-{headline.pk}"' in first.content.decode()
    assert f'name="q-{follow_up.pk}"' not in first.content.decode()
    saved = client.post(_url(link), {f"q-{headline.pk}": "2"})
    assert saved.status_code == 303
    assert Response.objects.get().is_partial  # the comment page may be abandoned
