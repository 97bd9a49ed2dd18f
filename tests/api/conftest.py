"""Fixtures for API tests: a client that speaks JSON with a personal API token."""

import json

import pytest
from django.test import Client

from opencx.platform.services import api_token_create

PREFIX = "/api/v1"


class ApiClient:
    """Calls /api/v1 with `Authorization: Bearer <secret>` (or with no credentials at all)."""

    def __init__(self, secret: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def get(self, path, params=None):
        return self.client.get(PREFIX + path, params or {}, headers=self.headers)

    def post(self, path, data=None):
        return self._send("post", path, data)

    def patch(self, path, data=None):
        return self._send("patch", path, data)

    def put(self, path, data=None):
        return self._send("put", path, data)

    def delete(self, path):
        return self.client.delete(PREFIX + path, headers=self.headers)

    def _send(self, method, path, data):
        body = json.dumps(data if data is not None else {})
        return getattr(self.client, method)(
            PREFIX + path, body, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def anonymous(db):
    return ApiClient()


@pytest.fixture
def api_as():
    """api_as(user) -> an ApiClient holding a fresh token of that user."""

    def make(user):
        return ApiClient(api_token_create(user=user, name="tests").secret)

    return make


@pytest.fixture
def owner_api(api_as, owner):
    return api_as(owner)


@pytest.fixture
def stranger_api(api_as, stranger):
    return api_as(stranger)


@pytest.fixture
def manager_api(api_as, make_actor, store):
    """A location manager of `store` (so `sibling_store` is out of reach)."""
    return api_as(make_actor("location_manager", store).user)


@pytest.fixture
def viewer_api(api_as, make_actor):
    return api_as(make_actor("viewer").user)


def assert_error(response, status, code, field=...):
    """The response is an error in the one format; `field` is checked when given."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "field"}
    assert body["code"] == code
    assert body["message"]
    if field is not ...:
        assert body["field"] == field
    return body
