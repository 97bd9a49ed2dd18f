from datetime import timedelta

import pytest
from django.utils import timezone

from opencx.platform.errors import NotFound
from opencx.platform.roles import Role
from opencx.surveys import selectors
from opencx.surveys.models import Question, Survey
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ContactFactory,
    IdentityFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


def _since():
    return timezone.now() - timedelta(days=90)


def test_headline_counts_follow_each_surveys_own_satisfied_set(owner_actor, brand, store):
    ces = SurveyFactory(brand=brand, kind=Survey.Kind.CES)
    QuestionFactory(survey=ces, kind=Question.Kind.TEXT, position=0, satisfied_values=[1])
    QuestionFactory(
        survey=ces,
        kind=Question.Kind.CES,
        position=1,
        scale_min=1,
        scale_max=7,
        satisfied_values=[6, 7],
    )
    for score in [7, 6, 5, 1]:
        ResponseFactory(survey=ces, location=store, score=score)

    counts = selectors.survey_headline_counts(
        owner_actor, surveys=[ces], location=None, since=_since()
    )[ces.pk]

    assert (counts.n, counts.satisfied, counts.has_headline) == (4, 2, True)


def test_a_survey_without_a_headline_question_has_no_score(owner_actor, brand, store):
    custom = SurveyFactory(brand=brand, kind=Survey.Kind.CUSTOM)
    QuestionFactory(survey=custom, kind=Question.Kind.TEXT)
    ResponseFactory(survey=custom, location=store, score=5)

    counts = selectors.survey_headline_counts(
        owner_actor, surveys=[custom], location=None, since=_since()
    )[custom.pk]

    assert counts.has_headline is False and counts.n == 0


def test_nps_counts_respect_the_location_scope(make_actor, brand, store, sibling_store):
    survey = SurveyFactory(brand=brand)
    QuestionFactory(survey=survey)
    for score, location in [(10, store), (3, store), (0, sibling_store)]:
        ResponseFactory(survey=survey, location=location, score=score)
    manager = make_actor(Role.LOCATION_MANAGER, store)

    counts = selectors.survey_headline_counts(
        manager, surveys=[survey], location=None, since=_since()
    )[survey.pk]

    assert (counts.n, counts.promoters, counts.detractors) == (2, 1, 1)


def test_survey_get_refuses_another_brands_survey(owner_actor):
    with pytest.raises(NotFound):
        selectors.survey_get(owner_actor, pk=SurveyFactory(brand=BrandFactory()).pk)


def test_detractor_responses_need_a_comment_a_recent_date_and_an_nps_survey(
    owner_actor, brand, store
):
    nps = SurveyFactory(brand=brand)
    fresh = ResponseFactory(survey=nps, location=store, score=6, comment="Slow")
    ResponseFactory(survey=nps, location=store, score=7, comment="Passive")
    ResponseFactory(survey=nps, location=store, score=2, comment="")
    ResponseFactory(
        survey=nps,
        location=store,
        score=2,
        comment="Old",
        created_at=timezone.now() - timedelta(days=45),
    )
    csat = SurveyFactory(brand=brand, kind=Survey.Kind.CSAT)
    ResponseFactory(survey=csat, location=store, score=1, comment="CSAT")

    since = timezone.now() - timedelta(days=30)
    assert list(selectors.detractor_responses(owner_actor, location=None, since=since)) == [fresh]


# --- The responses table, its search, the response detail ---


def _record(survey, location, answers, **kwargs):
    from opencx.surveys.services import response_record

    kwargs.setdefault("language", "en")
    return response_record(survey=survey, location=location, answers=answers, **kwargs)


def _table(actor, location=None, **filters):
    return list(
        selectors.response_table(
            actor, location=location, filters=selectors.ResponseFilters(**filters)
        )
    )


@pytest.fixture
def delivery_survey(make_survey):
    """An NPS survey with two open questions: the first is copied to the comment, the second
    (`extra`) lives only in the answers."""
    survey, headline, follow_up = make_survey("nps")
    extra = QuestionFactory(
        survey=survey,
        position=2,
        kind="text",
        scale_min=None,
        scale_max=None,
        text={"en": "Anything else?", "it": "Altro?"},
    )
    return survey, headline, follow_up, extra


def test_search_finds_a_word_in_an_open_answer_and_nowhere_else(
    owner_actor, brand, store, delivery_survey
):
    survey, headline, follow_up, extra = delivery_survey
    store.name = "Scratched Lane"  # the word in a location name must not match
    store.save()
    in_answer = _record(
        survey, store, {headline.pk: 4, follow_up.pk: "Late", extra.pk: "The screen was scratched"}
    )
    _record(survey, store, {headline.pk: 9, follow_up.pk: "All good"})

    assert _table(owner_actor, q="scratched") == [in_answer]
    assert _table(owner_actor, q="SCREEN scratched") == [in_answer]  # every word, any case
    assert _table(owner_actor, q="recommend") == []  # the question's text is not searched
    assert _table(owner_actor, q="Lane") == []
    assert _table(owner_actor, q="unicorn") == []


def test_search_covers_the_comment_and_the_contacts_name_and_email(
    owner_actor, brand, store, delivery_survey
):
    survey, headline, follow_up, _ = delivery_survey
    anna = ContactFactory(brand=brand, name="Anna Rossi")
    IdentityFactory(contact=anna, value="anna.rossi@example.test")
    by_anna = _record(survey, store, {headline.pk: 9}, contact=anna)
    commented = _record(survey, store, {headline.pk: 2, follow_up.pk: "Queue far too long"})
    _record(survey, store, {headline.pk: 7}, contact=ContactFactory(brand=brand, name="Bruno"))

    assert _table(owner_actor, q="rossi") == [by_anna]
    assert _table(owner_actor, q="anna.rossi@example.test") == [by_anna]
    assert _table(owner_actor, q="queue") == [commented]


def test_search_folds_case_outside_ascii(owner_actor, brand, store, delivery_survey):
    survey, headline, follow_up, _ = delivery_survey
    russian = _record(
        survey, store, {headline.pk: 10, follow_up.pk: "Отлично, спасибо"}, language="ru"
    )

    assert _table(owner_actor, q="отлично") == [russian]


def test_search_ignores_nul_characters_and_blank_queries(owner_actor, store, delivery_survey):
    survey, headline, follow_up, _ = delivery_survey
    response = _record(survey, store, {headline.pk: 10, follow_up.pk: "Great"})

    assert _table(owner_actor, q="gr\x00eat") == [response]
    assert _table(owner_actor, q="  \x00 ") == [response]


def test_search_ignores_case_in_every_script(owner_actor, store, delivery_survey):
    survey, headline, follow_up, _ = delivery_survey
    russian = _record(
        survey, store, {headline.pk: 2, follow_up.pk: "Посылка ОПОЗДАЛА на неделю"}, language="ru"
    )
    _record(survey, store, {headline.pk: 5, follow_up.pk: "Всё отлично"}, language="ru")

    assert _table(owner_actor, q="опоздала") == [russian]
    assert _table(owner_actor, q="Посылка") == [russian]


def test_table_filters_each_narrow_the_rows(owner_actor, brand, region, store, sibling_store):
    nps = SurveyFactory(brand=brand)
    other = SurveyFactory(brand=brand)
    touchpoint = TouchpointFactory(brand=brand)
    channel = ChannelFactory(brand=brand)
    now = timezone.now()
    a = ResponseFactory(
        survey=nps,
        location=store,
        score=10,
        comment="Great",
        touchpoint=touchpoint,
        channel=channel,
        language="it",
        contact_permission=True,
        created_at=now,
    )
    b = ResponseFactory(
        survey=nps,
        location=sibling_store,
        score=3,
        is_partial=True,
        contact_permission=False,
        created_at=now - timedelta(days=10),
    )
    c = ResponseFactory(survey=other, location=store, score=8, created_at=now - timedelta(days=40))

    assert _table(owner_actor, survey=nps) == [a, b]
    assert _table(owner_actor, within=sibling_store) == [b]
    assert _table(owner_actor, touchpoint_id=touchpoint.pk) == [a]
    assert _table(owner_actor, channel_id=channel.pk) == [a]
    assert _table(owner_actor, language="it") == [a]
    assert _table(owner_actor, band="promoter") == [a]
    assert _table(owner_actor, band="passive") == [c]
    assert _table(owner_actor, band="detractor") == [b]
    assert _table(owner_actor, status="partial") == [b]
    assert _table(owner_actor, status="complete") == [a, c]
    assert _table(owner_actor, has_comment=True) == [a]
    assert _table(owner_actor, has_comment=False) == [b, c]
    assert _table(owner_actor, contact_permission="yes") == [a]
    assert _table(owner_actor, contact_permission="no") == [b]
    assert _table(owner_actor, contact_permission="unasked") == [c]
    assert _table(owner_actor, since=now - timedelta(days=20)) == [a, b]
    assert _table(owner_actor, until=now - timedelta(days=5)) == [b, c]
    assert _table(owner_actor, survey=nps, band="promoter", within=sibling_store) == []


def test_satisfied_band_uses_each_surveys_own_satisfied_set(owner_actor, brand, store):
    # Two CSAT surveys on different scales: 3 is satisfied on a 1–3 scale, not on a 1–5 one.
    short = SurveyFactory(brand=brand, kind=Survey.Kind.CSAT)
    QuestionFactory(survey=short, kind="csat", scale_min=1, scale_max=3, satisfied_values=[3])
    long = SurveyFactory(brand=brand, kind=Survey.Kind.CSAT)
    QuestionFactory(survey=long, kind="csat", scale_min=1, scale_max=5, satisfied_values=[4, 5])
    now = timezone.now()
    happy_short = ResponseFactory(survey=short, location=store, score=3, created_at=now)
    meh_long = ResponseFactory(
        survey=long, location=store, score=3, created_at=now - timedelta(minutes=1)
    )
    nps = SurveyFactory(brand=brand)
    ResponseFactory(survey=nps, location=store, score=10)  # NPS is never in a CSAT band

    assert _table(owner_actor, band="satisfied") == [happy_short]
    assert _table(owner_actor, band="unsatisfied") == [meh_long]
    assert _table(owner_actor, band="satisfied", survey=long) == []


def test_table_is_scoped_to_the_actor_and_the_chosen_location(
    make_actor, brand, region, store, sibling_store
):
    survey = SurveyFactory(brand=brand)
    mine = ResponseFactory(survey=survey, location=store, comment="mine")
    ResponseFactory(survey=survey, location=sibling_store, comment="theirs")
    ResponseFactory(survey=SurveyFactory(brand=BrandFactory()), comment="mine too")
    manager = make_actor(Role.LOCATION_MANAGER, store)
    regional = make_actor(Role.LOCATION_MANAGER, region)

    assert _table(manager) == [mine]
    assert _table(manager, q="mine") == [mine]
    assert _table(manager, within=sibling_store) == []  # a location outside reach shows nothing
    assert len(_table(regional)) == 2
    assert _table(regional, location=store) == [mine]


def test_response_get_is_404_outside_reach(make_actor, brand, store, sibling_store):
    survey = SurveyFactory(brand=brand)
    response = ResponseFactory(survey=survey, location=store)
    foreign = ResponseFactory(survey=SurveyFactory(brand=BrandFactory()))

    assert selectors.response_get(make_actor(Role.VIEWER), pk=response.pk) == response
    with pytest.raises(NotFound):
        selectors.response_get(make_actor(Role.LOCATION_MANAGER, sibling_store), pk=response.pk)
    with pytest.raises(NotFound):
        selectors.response_get(make_actor(Role.OWNER), pk=foreign.pk)


def test_answer_rows_follow_question_order_in_the_responses_language(owner_actor, brand, store):
    survey = SurveyFactory(brand=brand, kind=Survey.Kind.CSAT, default_language="en")
    rating = QuestionFactory(
        survey=survey,
        position=0,
        kind="csat",
        scale_min=1,
        scale_max=5,
        satisfied_values=[4, 5],
        text={"en": "How satisfied?", "it": "Quanto soddisfatto?"},
        scale_labels={"4": {"en": "Satisfied", "it": "Soddisfatto"}},
    )
    reasons = QuestionFactory(
        survey=survey,
        position=1,
        kind="multiple",
        scale_min=None,
        scale_max=None,
        text={"en": "Why?"},  # not translated: falls back to the default language
        options=[
            {"value": "price", "label": {"en": "Price", "it": "Prezzo"}},
            {"value": "staff", "label": {"en": "Staff"}},
        ],
    )
    consent = QuestionFactory(
        survey=survey,
        position=2,
        kind="consent",
        scale_min=None,
        scale_max=None,
        text={"en": "May we call you?", "it": "Possiamo chiamarti?"},
    )
    skipped = QuestionFactory(
        survey=survey,
        position=3,
        kind="text",
        scale_min=None,
        scale_max=None,
        text={"en": "Anything else?"},
    )
    response = _record(
        survey,
        store,
        {rating.pk: 4, reasons.pk: ["staff", "price"], consent.pk: True},
        language="it",
    )

    rows = selectors.response_answer_rows(selectors.response_get(owner_actor, pk=response.pk))

    assert [row.question for row in rows] == [rating, reasons, consent, skipped]
    assert [row.text for row in rows] == [
        "Quanto soddisfatto?",
        "Why?",
        "Possiamo chiamarti?",
        "Anything else?",
    ]
    assert [row.value for row in rows] == ["4 · Soddisfatto", "Prezzo; Staff", "Yes", ""]
    assert [row.answered for row in rows] == [True, True, True, False]
    assert [row.text_language for row in rows] == ["it", "en", "it", "en"]
