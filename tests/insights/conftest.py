"""Fixtures for the insights tests: API clients (make_survey lives in tests/conftest.py)."""

import pytest


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
