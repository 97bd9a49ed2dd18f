"""GET/PUT /api/v1/brands/{slug}/text/taxonomy."""

import pytest

from opencx.insights.text_analysis import text_settings_of
from opencx.platform.roles import Role
from tests.insights.test_taxonomy import SEED_IDS

pytestmark = pytest.mark.django_db

PATH = "/brands/bottega/text/taxonomy"


def test_read_the_seed_then_replace_it(api_as, owner, brand):
    api = api_as(owner)
    read = api.get(PATH)
    assert read.status_code == 200
    body = read.json()
    assert body["seeded"] is True and [t["id"] for t in body["topics"]] == SEED_IDS
    topics = [
        {"id": "parking", "name": "Parking", "keywords": {"en": ["parking"]}},
        {**body["topics"][0], "name": "Staff"},
    ]
    written = api.put(PATH, {"topics": topics})
    assert written.status_code == 200, written.json()
    body = written.json()
    assert body["seeded"] is False and body["version"] == read.json()["version"] + 1
    assert [t["id"] for t in body["topics"]] == ["parking", "staff_friendliness"]
    assert body["topics"][0]["descriptions"] == []
    assert api.get(PATH).json() == body


@pytest.mark.parametrize(
    ("topics", "field"),
    [
        ([{"id": "Parking", "name": "Parking"}], "topics.0.id"),
        ([{"id": "a", "name": "A"}, {"id": "b", "name": " "}], "topics.1.name"),
        ([{"id": "a", "name": "A", "keywords": {"en": "a"}}], "topics.0.keywords.en"),
        ([{"id": "a", "name": "A"}, {"id": "a", "name": "B"}], "topics.1.id"),
        (["a"], "topics.0"),
    ],
)
def test_an_invalid_taxonomy_is_422_naming_the_field(api_as, owner, brand, topics, field):
    response = api_as(owner).put(PATH, {"topics": topics})
    assert response.status_code == 422, response.json()
    assert response.json()["field"] == field
    assert text_settings_of(brand).taxonomy is None


def test_who_may(api_as, brand, make_actor, store, stranger):
    viewer = make_actor(Role.VIEWER)
    assert api_as(viewer.user).get(PATH).status_code == 200
    refused = api_as(viewer.user).put(PATH, {"topics": []})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    scoped = make_actor(Role.CX_MANAGER, store)
    assert api_as(scoped.user).get(PATH).status_code == 404
    assert api_as(scoped.user).put(PATH, {"topics": []}).status_code == 404
    assert api_as(stranger).get(PATH).status_code == 404
