from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from opencx.platform.roles import Role
from opencx.surveys.models import Question, Survey
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ContactFactory,
    IdentityFactory,
    LocationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


def _recent(days=3):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def nps_survey(brand):
    survey = SurveyFactory(brand=brand, name="Store visit NPS")
    QuestionFactory(
        survey=survey, text={"en": "Would you recommend us?", "it": "Ci consiglieresti?"}
    )
    return survey


@pytest.fixture
def manager(make_actor, store):
    return make_actor(Role.LOCATION_MANAGER, store).user


def test_owner_sees_surveys_with_counts_and_nps(client, brand, owner, store, nps_survey):
    for score in [10, 9, 9, 3]:
        ResponseFactory(survey=nps_survey, location=store, score=score, created_at=_recent())
    ResponseFactory(survey=nps_survey, location=store, score=0, created_at=_recent(days=200))
    client.force_login(owner)

    page = client.get(reverse("surveys:list", args=[brand.slug]))

    assert page.status_code == 200
    [(survey, score)] = page.context["rows"]
    assert survey == nps_survey
    assert survey.question_count == 1
    assert survey.recent_responses == 4  # the 200-day-old answer is outside 90 days
    assert (score.value, score.n) == (50.0, 4)
    assert "NPS 50" in page.content.decode()


def test_csat_score_uses_the_stored_satisfied_set_not_an_assumed_scale(client, brand, owner, store):
    survey = SurveyFactory(brand=brand, name="Delivery CSAT", kind=Survey.Kind.CSAT)
    # A 1–3 scale where only 3 counts as satisfied: a 4–5 assumption would find nobody.
    QuestionFactory(
        survey=survey, kind=Question.Kind.CSAT, scale_min=1, scale_max=3, satisfied_values=[3]
    )
    for score in [3, 3, 2, 1]:
        ResponseFactory(survey=survey, location=store, score=score, created_at=_recent())
    client.force_login(owner)

    page = client.get(reverse("surveys:list", args=[brand.slug]))

    [(_, score)] = page.context["rows"]
    assert (score.value, score.n) == (50.0, 4)
    assert "50% satisfied" in page.content.decode()


def test_location_manager_counts_only_their_subtree(
    client, brand, store, sibling_store, nps_survey, manager
):
    ResponseFactory(survey=nps_survey, location=store, score=10, created_at=_recent())
    ResponseFactory(survey=nps_survey, location=sibling_store, score=0, created_at=_recent())
    client.force_login(manager)

    page = client.get(reverse("surveys:list", args=[brand.slug]))

    [(survey, score)] = page.context["rows"]
    assert survey.recent_responses == 1
    assert (score.value, score.n) == (100.0, 1)


def test_switcher_location_narrows_the_list(client, brand, owner, store, sibling_store, nps_survey):
    ResponseFactory(survey=nps_survey, location=store, score=10, created_at=_recent())
    ResponseFactory(survey=nps_survey, location=sibling_store, score=0, created_at=_recent())
    client.force_login(owner)
    session = client.session
    session[f"location_scope:{brand.pk}"] = sibling_store.pk
    session.save()

    page = client.get(reverse("surveys:list", args=[brand.slug]))

    [(survey, score)] = page.context["rows"]
    assert (survey.recent_responses, score.value) == (1, -100.0)


def test_survey_list_query_count_is_flat(
    client, brand, owner, store, django_assert_max_num_queries
):
    for n in range(12):
        survey = SurveyFactory(brand=brand, name=f"Survey {n}")
        QuestionFactory(survey=survey)
        ResponseFactory(survey=survey, location=store, score=n % 11, created_at=_recent())
    client.force_login(owner)

    with django_assert_max_num_queries(10):
        page = client.get(reverse("surveys:list", args=[brand.slug]))

    assert len(page.context["rows"]) == 12


def test_survey_list_of_another_brand_is_404(client, brand, stranger):
    client.force_login(stranger)
    assert client.get(reverse("surveys:list", args=[brand.slug])).status_code == 404


def test_detail_shows_questions_and_responses(client, brand, owner, store, nps_survey):
    ResponseFactory(survey=nps_survey, location=store, score=2, comment="Queue was far too long")
    client.force_login(owner)

    page = client.get(reverse("surveys:detail", args=[brand.slug, nps_survey.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    assert "Ci consiglieresti?" in body and "Would you recommend us?" in body
    assert "0–10" in body
    assert "Queue was far too long" in body
    assert page.context["headline"] == nps_survey.questions.get()


def test_detail_filters_by_band_comment_and_location(
    client, brand, owner, region, store, sibling_store, nps_survey
):
    promoter = ResponseFactory(survey=nps_survey, location=store, score=10, comment="Lovely")
    passive = ResponseFactory(survey=nps_survey, location=store, score=7)
    detractor = ResponseFactory(survey=nps_survey, location=sibling_store, score=4, comment="Bad")
    url = reverse("surveys:detail", args=[brand.slug, nps_survey.pk])
    client.force_login(owner)

    def shown(**params):
        return set(client.get(url, params).context["page"].object_list)

    assert shown() == {promoter, passive, detractor}
    assert shown(band="promoter") == {promoter}
    assert shown(band="passive") == {passive}
    assert shown(band="detractor") == {detractor}
    assert shown(comment="yes") == {promoter, detractor}
    assert shown(comment="no") == {passive}
    assert shown(location=sibling_store.pk) == {detractor}
    assert shown(location=region.pk) == {promoter, passive, detractor}


def test_detail_satisfied_band_uses_the_satisfied_set(client, brand, owner, store):
    survey = SurveyFactory(brand=brand, kind=Survey.Kind.CES)
    QuestionFactory(
        survey=survey,
        kind=Question.Kind.CES,
        scale_min=1,
        scale_max=7,
        satisfied_values=[5, 6, 7],
    )
    happy = ResponseFactory(survey=survey, location=store, score=6)
    unhappy = ResponseFactory(survey=survey, location=store, score=4)
    url = reverse("surveys:detail", args=[brand.slug, survey.pk])
    client.force_login(owner)

    assert list(client.get(url, {"band": "satisfied"}).context["page"].object_list) == [happy]
    assert list(client.get(url, {"band": "unsatisfied"}).context["page"].object_list) == [unhappy]


def test_detail_paginates_by_50(client, brand, owner, store, nps_survey):
    ResponseFactory.create_batch(51, survey=nps_survey, location=store)
    client.force_login(owner)
    url = reverse("surveys:detail", args=[brand.slug, nps_survey.pk])

    first, second = client.get(url), client.get(url, {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1


def test_detail_shows_a_location_manager_only_their_responses(
    client, brand, store, sibling_store, nps_survey, manager
):
    mine = ResponseFactory(survey=nps_survey, location=store, comment="Mine")
    ResponseFactory(survey=nps_survey, location=sibling_store, comment="Theirs")
    client.force_login(manager)
    url = reverse("surveys:detail", args=[brand.slug, nps_survey.pk])

    page = client.get(url, {"location": sibling_store.pk})  # a location beyond reach is ignored

    assert list(page.context["page"].object_list) == [mine]
    assert "Theirs" not in page.content.decode()


def test_detail_of_another_brands_survey_is_404(client, owner, brand):
    foreign = SurveyFactory(brand=BrandFactory())
    QuestionFactory(survey=foreign)
    ResponseFactory(survey=foreign, location=LocationFactory(brand=foreign.brand))
    client.force_login(owner)

    assert client.get(reverse("surveys:detail", args=[brand.slug, foreign.pk])).status_code == 404


def test_detail_for_a_stranger_is_404(client, brand, stranger, nps_survey):
    client.force_login(stranger)
    url = reverse("surveys:detail", args=[brand.slug, nps_survey.pk])
    assert client.get(url).status_code == 404


def test_htmx_filter_returns_only_the_results_fragment(client, brand, owner, store, nps_survey):
    ResponseFactory(survey=nps_survey, location=store, score=10, comment="Fragment")
    client.force_login(owner)
    url = reverse("surveys:detail", args=[brand.slug, nps_survey.pk])

    fragment = client.get(url, {"band": "promoter"}, headers={"HX-Request": "true"})

    body = fragment.content.decode()
    assert "Fragment" in body
    assert "<html" not in body and "Questions" not in body


# --- The responses table, its export and the response detail ---


def _record(survey, location, answers, **kwargs):
    from opencx.surveys.services import response_record

    kwargs.setdefault("language", "en")
    return response_record(survey=survey, location=location, answers=answers, **kwargs)


@pytest.fixture
def feedback_survey(make_survey):
    """NPS with a follow-up (copied to the comment) and a second open question."""
    survey, headline, follow_up = make_survey("nps")
    headline.text = {"en": "Would you recommend us?", "it": "Ci consiglieresti?"}
    headline.save()
    extra = QuestionFactory(
        survey=survey,
        position=2,
        kind=Question.Kind.TEXT,
        scale_min=None,
        scale_max=None,
        text={"en": "Anything else?"},
    )
    return survey, headline, follow_up, extra


def _responses_url(brand, **params):
    from urllib.parse import urlencode

    url = reverse("surveys:responses", args=[brand.slug])
    return f"{url}?{urlencode(params)}" if params else url


def test_responses_page_lists_every_survey_with_a_count_and_a_nav_entry(
    client, brand, owner, store, feedback_survey
):
    survey, headline, follow_up, _ = feedback_survey
    _record(survey, store, {headline.pk: 2, follow_up.pk: "Queue far too long"})
    other = SurveyFactory(brand=brand, name="Delivery CSAT", kind=Survey.Kind.CSAT)
    ResponseFactory(survey=other, location=store, score=5)
    client.force_login(owner)

    page = client.get(_responses_url(brand))

    assert page.status_code == 200
    body = page.content.decode()
    assert page.context["page"].paginator.count == 2
    assert "2 responses." in body
    assert "Queue far too long" in body and "Delivery CSAT" in body
    assert f'href="{_responses_url(brand)}" aria-current="page"' in body


def test_responses_page_searches_open_answers(client, brand, owner, store, feedback_survey):
    survey, headline, follow_up, extra = feedback_survey
    hit = _record(survey, store, {headline.pk: 3, follow_up.pk: "Late", extra.pk: "Box crushed"})
    _record(survey, store, {headline.pk: 9, follow_up.pk: "Fine"})
    client.force_login(owner)

    page = client.get(_responses_url(brand, q="crushed"))

    assert list(page.context["page"].object_list) == [hit]
    assert "1 response matches these filters." in page.content.decode()


def test_responses_page_filters_from_the_query_string(
    client, brand, owner, store, sibling_store, feedback_survey
):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    survey, headline, follow_up, _ = feedback_survey
    brand.timezone = "Europe/Rome"
    brand.save()
    late_evening = datetime(2025, 3, 1, 23, 30, tzinfo=ZoneInfo("Europe/Rome"))
    old = ResponseFactory(survey=survey, location=sibling_store, score=10, created_at=late_evening)
    # 23:30 in UTC is already 2 March in Rome: outside a 1 March filter in the brand's time.
    next_day = ResponseFactory(
        survey=survey, location=store, score=7, created_at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    )
    new = ResponseFactory(survey=survey, location=store, score=2, is_partial=True)
    client.force_login(owner)

    def shown(**params):
        return list(client.get(_responses_url(brand, **params)).context["page"].object_list)

    assert shown(survey=survey.pk) == [new, next_day, old]
    assert shown(location=sibling_store.pk) == [old]
    assert shown(band="detractor") == [new]
    assert shown(status="partial") == [new]
    assert shown(since="2025-03-01", until="2025-03-01") == [old]
    assert shown(since="2025-03-02", until="2025-03-31") == [next_day]
    assert shown(survey="not-a-number", band="nonsense", since="yesterday") == [
        new,
        next_day,
        old,
    ]


def test_htmx_filter_change_returns_only_the_table(client, brand, owner, store, feedback_survey):
    survey, headline, follow_up, _ = feedback_survey
    _record(survey, store, {headline.pk: 10, follow_up.pk: "Fragment"})
    client.force_login(owner)

    fragment = client.get(_responses_url(brand, band="promoter"), headers={"HX-Request": "true"})

    body = fragment.content.decode()
    assert "Fragment" in body and 'id="results"' in body
    assert "<html" not in body and "Permission to contact" not in body  # no filter form
    assert "band=promoter&amp;export=csv" in body  # downloads keep the filters


def test_responses_page_shows_a_location_manager_only_their_subtree(
    client, brand, store, sibling_store, feedback_survey, manager
):
    survey, *_ = feedback_survey
    ResponseFactory(survey=survey, location=store, comment="Mine")
    ResponseFactory(survey=survey, location=sibling_store, comment="Theirs")
    client.force_login(manager)

    body = client.get(_responses_url(brand, location=sibling_store.pk)).content.decode()

    assert "Mine" in body and "Theirs" not in body


def test_response_detail_shows_answers_in_the_respondents_language(
    client, brand, owner, store, feedback_survey
):
    survey, headline, follow_up, extra = feedback_survey
    anna = ContactFactory(brand=brand, name="Anna Rossi", home_location=store)
    IdentityFactory(contact=anna, value="anna@example.test")
    response = _record(
        survey,
        store,
        {headline.pk: 9, follow_up.pk: "Personale gentile"},
        language="it",
        contact=anna,
        is_partial=True,
    )
    client.force_login(owner)

    page = client.get(reverse("surveys:response-detail", args=[brand.slug, response.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    assert "Ci consiglieresti?" in body  # translated
    assert "Anything else?" in body  # not translated: the default language
    assert "Personale gentile" in body
    assert "Partial" in body and "Not finished" in body
    assert reverse("contacts:detail", args=[brand.slug, anna.pk]) in body
    assert "anna@example.test" in body
    assert [row.answered for row in page.context["rows"]] == [True, True, False]


def test_response_detail_is_404_for_another_store_or_brand(
    client, brand, owner, store, sibling_store, make_actor, feedback_survey
):
    survey, *_ = feedback_survey
    response = ResponseFactory(survey=survey, location=store)
    foreign = ResponseFactory(survey=SurveyFactory(brand=BrandFactory()))
    client.force_login(make_actor(Role.LOCATION_MANAGER, sibling_store).user)

    url = reverse("surveys:response-detail", args=[brand.slug, response.pk])
    assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200
    url = reverse("surveys:response-detail", args=[brand.slug, foreign.pk])
    assert client.get(url).status_code == 404


def _csv_rows(response):
    import csv
    import io

    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def test_csv_export_of_one_survey_has_a_column_per_question(
    client, brand, owner, store, sibling_store, feedback_survey
):
    survey, headline, follow_up, extra = feedback_survey
    response = _record(
        survey, store, {headline.pk: 3, follow_up.pk: '=HYPERLINK("http://x")', extra.pk: "Box"}
    )
    ResponseFactory(survey=survey, location=sibling_store, score=10)  # filtered out below
    ResponseFactory(survey=SurveyFactory(brand=brand), location=store, score=1)  # other survey
    client.force_login(owner)

    download = client.get(_responses_url(brand, survey=survey.pk, location=store.pk, export="csv"))

    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"].startswith(f'attachment; filename="{brand.slug}-')
    assert download.streaming
    header, *rows = _csv_rows(download)
    assert header[0] == "Response id"
    assert header[-3:] == ["Would you recommend us?", follow_up.text["en"], "Anything else?"]
    assert "Score" not in header and "Comment" not in header
    [row] = rows
    assert row[0] == str(response.pk)
    assert row[-3:] == ["3", '\'=HYPERLINK("http://x")', "Box"]  # a formula is defused


def test_csv_export_without_a_survey_has_score_and_comment(
    client, brand, store, sibling_store, feedback_survey, manager
):
    survey, headline, follow_up, _ = feedback_survey
    _record(survey, store, {headline.pk: 8, follow_up.pk: "+39 call me"})
    _record(survey, sibling_store, {headline.pk: 1, follow_up.pk: "Not for the manager"})
    client.force_login(manager)

    header, *rows = _csv_rows(client.get(_responses_url(brand, export="csv")))

    assert header[-2:] == ["Score", "Comment"]
    assert [row[-2:] for row in rows] == [["8", "'+39 call me"]]


def test_xlsx_export_holds_the_filtered_rows(client, brand, owner, store, feedback_survey):
    import io

    from openpyxl import load_workbook

    survey, headline, follow_up, extra = feedback_survey
    _record(survey, store, {headline.pk: 10, follow_up.pk: "Great", extra.pk: "-1 point"})
    _record(survey, store, {headline.pk: 2, follow_up.pk: "Slow"})
    client.force_login(owner)

    download = client.get(_responses_url(brand, survey=survey.pk, band="promoter", export="xlsx"))

    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(download.content)).active
    header, *rows = list(sheet.values)
    assert header[-3:] == ("Would you recommend us?", follow_up.text["en"], "Anything else?")
    assert [row[-3:] for row in rows] == [(10, "Great", "'-1 point")]


def test_unknown_export_format_is_a_clear_400(client, brand, owner):
    client.force_login(owner)
    assert client.get(_responses_url(brand, export="pdf")).status_code == 400


HOSTILE = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(
        [
            "²",
            "٣",
            "99999999999999999999",
            "-1",
            "0",
            "1e9",
            "2025-02-30",
            "0001-01-01",
            "9999-12-31",
            "\x00",
            "' OR 1=1 --",
            "%_\\",
            '"unterminated',
            "-",
            "csv",
            "xlsx",
        ]
    ),
)
RESPONSE_PARAMS = [
    "survey", "location", "touchpoint", "channel", "language", "band", "status", "comment",
    "permission", "since", "until", "q", "page", "export", "table",
]  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(params=st.fixed_dictionaries({}, optional=dict.fromkeys(RESPONSE_PARAMS, HOSTILE)))
@example(params=dict.fromkeys(RESPONSE_PARAMS, "²"))
@example(params=dict.fromkeys(RESPONSE_PARAMS, "99999999999999999999"))
@example(params={**dict.fromkeys(RESPONSE_PARAMS, "a\x00b"), "export": "csv", "table": ""})
def test_hostile_query_strings_never_cause_a_server_error(
    client, brand, owner, store, feedback_survey, params
):
    survey, headline, follow_up, _ = feedback_survey
    if not survey.responses.exists():
        _record(survey, store, {headline.pk: 4, follow_up.pk: "Anything at all"})
    client.force_login(owner)

    response = client.get(reverse("surveys:responses", args=[brand.slug]), params)
    if response.streaming:
        b"".join(response.streaming_content)

    assert response.status_code in {200, 400, 404}, params


def test_responses_page_query_count_does_not_grow_with_rows(
    client, brand, owner, store, feedback_survey, django_assert_max_num_queries
):
    survey, *_ = feedback_survey
    touchpoint, channel = TouchpointFactory(brand=brand), ChannelFactory(brand=brand)
    for n in range(30):
        ResponseFactory(
            survey=survey,
            location=store,
            touchpoint=touchpoint,
            channel=channel,
            contact=ContactFactory(brand=brand),
            score=n % 11,
        )
    client.force_login(owner)

    with django_assert_max_num_queries(14):
        page = client.get(_responses_url(brand))

    assert len(page.context["page"].object_list) == 30
