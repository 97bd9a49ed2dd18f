import pytest

from opencx.api.errors import validation_error_body
from opencx.platform import selectors

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_unknown_brand_is_404_in_the_error_format(owner_api, brand):
    body = assert_error(owner_api.get("/brands/nope"), 404, "not_found")
    assert body["message"] == "No such brand."


def test_unknown_route_is_404_json(owner_api):
    body = assert_error(owner_api.get("/no/such/thing"), 404, "not_found")
    assert "/api/v1/no/such/thing" in body["message"]


def test_object_not_found_names_the_field(owner_api, brand):
    assert_error(owner_api.get("/brands/bottega/locations/999999"), 404, "not_found", "location")


def test_query_validation_is_422_naming_the_field(owner_api, brand):
    body = assert_error(
        owner_api.get("/brands/bottega/locations", {"limit": 0}), 422, "invalid", "limit"
    )
    assert body["message"].startswith("limit:")


def test_path_validation_is_422(owner_api, brand):
    body = assert_error(
        owner_api.get("/brands/bottega/locations/abc"), 422, "invalid", "location_id"
    )
    assert "location_id" in body["message"]


def test_body_validation_names_the_body_field(owner_api, brand):
    body = assert_error(
        owner_api.post("/brands/bottega/touchpoints", {"key": "x"}), 422, "invalid", "name"
    )
    assert "name" in body["message"]


def test_nested_body_location_is_dotted():
    body = validation_error_body(
        [
            {"loc": ("body", "payload", "opening_hours", "0", 1), "msg": "bad"},
            {"loc": ("query", "limit"), "msg": "too big"},
        ]
    )
    assert body == {
        "code": "invalid",
        "message": "opening_hours.0.1: bad; limit: too big",
        "field": "opening_hours.0.1",
    }


def test_malformed_json_is_an_error_in_the_format(owner_api, brand):
    response = owner_api.client.post(
        "/api/v1/brands/bottega/touchpoints",
        "{not json",
        content_type="application/json",
        headers=owner_api.headers,
    )
    assert response.status_code in {400, 422}
    assert set(response.json()) == {"code", "message", "field"}


def test_app_error_keeps_status_code_and_field(owner_api, brand):
    owner_api.post("/brands/bottega/touchpoints", {"name": "Kiosk"})
    body = assert_error(
        owner_api.post("/brands/bottega/touchpoints", {"name": "Kiosk"}), 409, "conflict", "key"
    )
    assert "kiosk" in body["message"]
    assert_error(
        owner_api.patch("/brands/bottega", {"timezone": "Mars/Olympus"}), 400, "invalid", "timezone"
    )


def test_forbidden_is_403(viewer_api, brand):
    body = assert_error(viewer_api.patch("/brands/bottega", {"name": "Mine"}), 403, "forbidden")
    assert "Viewer" in body["message"]


def test_wrong_method_is_405_json(owner_api):
    response = owner_api.put("/me", {})
    body = assert_error(response, 405, "method_not_allowed")
    assert "PUT" in body["message"]
    assert "GET" in response["Allow"]


def test_unexpected_error_is_500_without_details(owner_api, brand, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(selectors, "touchpoints_of", explode)
    response = owner_api.get("/brands/bottega/touchpoints")
    body = assert_error(response, 500, "server_error")
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content
    assert body["message"].startswith("Something went wrong")


def test_openapi_documents_the_error_schema(owner_api):
    schema = owner_api.get("/openapi.json").json()
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "message", "field"}
    responses = schema["paths"]["/api/v1/brands/{slug}/locations"]["post"]["responses"]
    for status in ("401", "403", "404", "409", "422"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
