"""The definitions API: export, import (upsert by slug) and templates."""

import json

import pytest
import yaml

from opencx.platform.roles import Role
from opencx.platform.services import api_token_create
from opencx.surveys.definitions import library, spec_of
from opencx.surveys.models import Survey
from opencx.surveys.services import response_record, survey_create_from_template
from tests.api.conftest import PREFIX, ApiClient, assert_error

pytestmark = pytest.mark.django_db


def api(user):
    return ApiClient(api_token_create(user=user, name="tests").secret)


@pytest.fixture
def survey(owner_actor):
    return survey_create_from_template(actor=owner_actor, template="nps", name="Visit")


def put_text(client: ApiClient, brand, text, content_type):
    return client.client.put(
        f"{PREFIX}/brands/{brand.slug}/surveys/definition",
        text,
        content_type=content_type,
        headers=client.headers,
    )


def definition_path(brand, survey):
    return f"/brands/{brand.slug}/surveys/{survey.pk}/definition"


# --- export -------------------------------------------------------------------------------------


def test_the_definition_as_json_by_default_and_as_yaml(owner, brand, survey):
    client = api(owner)
    response = client.get(definition_path(brand, survey))
    assert response.status_code == 200
    assert response.json() == spec_of(survey)

    response = client.get(definition_path(brand, survey), {"format": "yaml"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(response.content.decode()) == spec_of(survey)


def test_every_member_may_read_a_definition_but_no_other_brand(
    brand, survey, make_actor, sibling_store, stranger
):
    manager = make_actor(Role.LOCATION_MANAGER, sibling_store).user
    assert api(manager).get(definition_path(brand, survey)).status_code == 200
    assert_error(api(stranger).get(definition_path(brand, survey)), 404, "not_found")


def test_an_unknown_format_is_a_422(owner, brand, survey):
    response = api(owner).get(definition_path(brand, survey), {"format": "xml"})
    assert_error(response, 422, "invalid", "format")


# --- import -------------------------------------------------------------------------------------


def test_put_creates_then_updates_by_slug(owner, brand, survey):
    client = api(owner)
    document = spec_of(survey) | {"slug": "copy", "name": "Copy"}

    created = client.put(f"/brands/{brand.slug}/surveys/definition", document)
    assert created.status_code == 201, created.content
    copy = Survey.objects.get(brand=brand, slug="copy")
    assert created.json()["id"] == copy.pk
    assert created.json()["slug"] == "copy"

    document["name"] = "Copy 2"
    text = yaml.safe_dump(document, allow_unicode=True)
    updated = put_text(client, brand, text, "application/yaml")
    assert updated.status_code == 200, updated.content
    assert updated.json()["id"] == copy.pk
    copy.refresh_from_db()
    assert copy.name == "Copy 2"
    assert spec_of(copy) == document


def test_put_takes_yaml_inside_a_json_string(owner, brand, survey):
    document = spec_of(survey) | {"slug": "quoted"}
    body = json.dumps(yaml.safe_dump(document, allow_unicode=True))
    response = put_text(api(owner), brand, body, "application/json")
    assert response.status_code == 201, response.content


def test_an_invalid_document_is_a_422_naming_the_line_and_the_field(owner, brand, survey):
    document = spec_of(survey)
    document["questions"][0]["scale"] = [1, 5]
    text = json.dumps(document, indent=2, ensure_ascii=False)
    # The rule is about the whole question: the line is where the question starts.
    line = text.splitlines().index('  "questions": [') + 2

    body = assert_error(
        put_text(api(owner), brand, text, "application/json"),
        422,
        "invalid",
        "questions.0",
    )

    assert body["message"].startswith(f"body, line {line}: questions.0: an NPS question is always")
    assert survey.questions.get(key="nps").scale_max == 10


@pytest.mark.parametrize(
    ("text", "content_type"),
    [
        ("slug: [unclosed", "application/yaml"),
        ("{not json", "application/json"),
        ("- a list", "text/plain"),
        ("", "application/yaml"),
    ],
)
def test_documents_that_do_not_parse_are_422(owner, brand, text, content_type):
    assert_error(put_text(api(owner), brand, text, content_type), 422, "invalid")


def test_bytes_that_are_not_utf8_are_a_422(owner, brand):
    response = put_text(api(owner), brand, b"\xff\xfe\x00slug", "application/yaml")
    assert_error(response, 422, "invalid", "body")


def test_a_change_to_an_answered_question_is_a_409(owner, brand, survey, store):
    nps = survey.questions.get(key="nps")
    response_record(survey=survey, location=store, answers={nps.pk: 4}, language="en")
    document = spec_of(survey)
    document["questions"] = [q for q in document["questions"] if q["key"] != "nps"]
    document["kind"] = "custom"
    for question in document["questions"]:
        question.pop("show_if", None)

    response = api(owner).put(f"/brands/{brand.slug}/surveys/definition", document)

    assert_error(response, 409, "conflict", "questions.nps")
    assert survey.questions.filter(key="nps").exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT, Role.LOCATION_MANAGER])
def test_only_members_who_may_build_surveys_can_put(brand, make_actor, role, survey):
    document = spec_of(survey) | {"name": "Changed"}
    response = api(make_actor(role).user).put(f"/brands/{brand.slug}/surveys/definition", document)
    assert_error(response, 403, "forbidden")
    survey.refresh_from_db()
    assert survey.name == "Visit"


def test_another_brand_cannot_put(stranger, brand, survey):
    response = api(stranger).put(f"/brands/{brand.slug}/surveys/definition", spec_of(survey))
    assert_error(response, 404, "not_found")


# --- templates ----------------------------------------------------------------------------------


def test_templates_are_listed(brand, make_actor):
    response = api(make_actor(Role.VIEWER).user).get(f"/brands/{brand.slug}/survey-templates")
    assert response.status_code == 200
    items = {item["slug"]: item for item in response.json()["items"]}
    assert set(items) == set(library())
    assert items["ces-returns"] == {
        "slug": "ces-returns",
        "name": "CES after returns",
        "kind": "ces",
        "languages": ["en", "it", "cy", "ru", "es", "fr", "de"],
        "questions": 2,
    }


def test_a_survey_from_a_template(owner, brand):
    client = api(owner)
    path = f"/brands/{brand.slug}/surveys/from-template"
    response = client.post(path, {"template": "in-store-visit", "name": "Milano visit"})

    assert response.status_code == 201, response.content
    survey = Survey.objects.get(pk=response.json()["id"])
    assert (survey.slug, survey.template, survey.kind) == ("milano-visit", "in-store-visit", "nps")
    assert_error(client.post(path, {"template": "nope"}), 400, "invalid", "template")


def test_a_viewer_cannot_make_a_survey_from_a_template(brand, make_actor):
    response = api(make_actor(Role.VIEWER).user).post(
        f"/brands/{brand.slug}/surveys/from-template", {"template": "nps"}
    )
    assert_error(response, 403, "forbidden")
    assert not Survey.objects.exists()
