import pytest

from opencx.api.pagination import LimitOffset, PageParams
from tests.factories import TouchpointFactory

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_paginate_a_list():
    page = LimitOffset().paginate_queryset(list(range(7)), PageParams(limit=3, offset=3), None)
    assert page == {"count": 7, "next_offset": 6, "items": [3, 4, 5]}
    last = LimitOffset().paginate_queryset(list(range(7)), PageParams(limit=3, offset=6), None)
    assert last == {"count": 7, "next_offset": None, "items": [6]}


def test_default_limit_is_50(owner_api, brand):
    TouchpointFactory.create_batch(55, brand=brand)
    body = owner_api.get("/brands/bottega/touchpoints").json()
    assert body["count"] == 55
    assert len(body["items"]) == 50
    assert body["next_offset"] == 50


def test_walk_pages_without_gaps_or_repeats(owner_api, brand):
    TouchpointFactory.create_batch(7, brand=brand)
    seen, offset = [], 0
    while offset is not None:
        body = owner_api.get("/brands/bottega/touchpoints", {"limit": 3, "offset": offset}).json()
        assert body["count"] == 7
        assert len(body["items"]) <= 3
        seen += [item["id"] for item in body["items"]]
        offset = body["next_offset"]
    assert len(seen) == len(set(seen)) == 7


def test_offset_past_the_end_is_an_empty_page(owner_api, brand):
    TouchpointFactory.create_batch(2, brand=brand)
    body = owner_api.get("/brands/bottega/touchpoints", {"offset": 10}).json()
    assert body == {"count": 2, "next_offset": None, "items": []}


@pytest.mark.parametrize(
    ("params", "field"), [({"limit": 501}, "limit"), ({"offset": -1}, "offset")]
)
def test_limits_are_validated(owner_api, brand, params, field):
    assert_error(owner_api.get("/brands/bottega/touchpoints", params), 422, "invalid", field)


def test_max_limit_is_500(owner_api, brand):
    TouchpointFactory.create_batch(3, brand=brand)
    assert owner_api.get("/brands/bottega/touchpoints", {"limit": 500}).status_code == 200
