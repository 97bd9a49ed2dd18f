"""Fixtures for the rollup tests: NPS, CSAT and CES surveys with their headline questions."""

import pytest

from tests.factories import QuestionFactory, SurveyFactory


@pytest.fixture
def make_survey(brand):
    """make_survey(kind, satisfied=None, of_brand=None) -> (survey, headline, open question)."""
    scales = {"nps": (0, 10, [9, 10]), "csat": (1, 5, [4, 5]), "ces": (1, 7, [5, 6, 7])}

    def make(kind, satisfied=None, of_brand=None):
        low, high, default = scales[kind]
        survey = SurveyFactory(brand=of_brand or brand, kind=kind, name=f"{kind} survey")
        headline = QuestionFactory(
            survey=survey,
            position=0,
            kind=kind,
            scale_min=low,
            scale_max=high,
            satisfied_values=default if satisfied is None else satisfied,
            required=True,
        )
        follow_up = QuestionFactory(
            survey=survey, position=1, kind="text", scale_min=None, scale_max=None
        )
        return survey, headline, follow_up

    return make


@pytest.fixture
def api_as():
    """api_as(user) -> a JSON client of /api/v1 holding a fresh token of that user."""
    from opencx.platform.services import api_token_create
    from tests.api.conftest import ApiClient

    def make(user):
        return ApiClient(api_token_create(user=user, name="tests").secret)

    return make


@pytest.fixture
def anonymous_client(db):
    from tests.api.conftest import ApiClient

    return ApiClient()
