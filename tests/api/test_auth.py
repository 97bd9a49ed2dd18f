from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from opencx.platform.models import ApiToken
from opencx.platform.services import api_token_create, api_token_revoke

from .conftest import ApiClient, assert_error

pytestmark = pytest.mark.django_db


def test_no_credentials_is_401(anonymous, brand):
    body = assert_error(anonymous.get("/me"), 401, "unauthorized", None)
    assert "Bearer" in body["message"]


@pytest.mark.parametrize("header", ["Bearer ocx_not-a-real-token", "Bearer nonsense", "Bearer "])
def test_unknown_token_is_401(owner, header):
    response = Client().get("/api/v1/me", headers={"Authorization": header})
    assert_error(response, 401, "unauthorized")


def test_other_scheme_is_401(owner):
    secret = api_token_create(user=owner, name="ci").secret
    response = Client().get("/api/v1/me", headers={"Authorization": f"Token {secret}"})
    assert_error(response, 401, "unauthorized")


def test_revoked_token_is_401(owner):
    issued = api_token_create(user=owner, name="ci")
    api_token_revoke(user=owner, token_id=issued.token.pk)
    assert_error(ApiClient(issued.secret).get("/me"), 401, "unauthorized")


def test_expired_token_is_401(owner):
    issued = api_token_create(user=owner, name="ci", expires_at=timezone.now() + timedelta(days=1))
    assert ApiClient(issued.secret).get("/me").status_code == 200
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert_error(ApiClient(issued.secret).get("/me"), 401, "unauthorized")


def test_inactive_user_token_is_401(owner):
    secret = api_token_create(user=owner, name="ci").secret
    owner.is_active = False
    owner.save()
    assert_error(ApiClient(secret).get("/me"), 401, "unauthorized")


def test_valid_token_is_200_and_notes_use(owner, brand):
    issued = api_token_create(user=owner, name="ci")
    response = ApiClient(issued.secret).get("/me")
    assert response.status_code == 200
    assert response.json()["user"]["email"] == owner.email
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


def test_bad_token_does_not_fall_back_to_the_session(owner):
    client = Client()
    client.force_login(owner)
    assert client.get("/api/v1/me").status_code == 200
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer ocx_wrong"})
    assert_error(response, 401, "unauthorized")


def test_session_reads_without_csrf(owner, brand):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.get("/api/v1/brands/bottega")
    assert response.status_code == 200
    assert response.json()["slug"] == "bottega"


def test_session_write_needs_csrf_token(owner, brand):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url = "/api/v1/brands/bottega/touchpoints"
    data = {"name": "Kiosk"}
    response = client.post(url, data, content_type="application/json")
    assert_error(response, 403, "csrf_failed")

    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    response = client.post(
        url, data, content_type="application/json", headers={"X-CSRFToken": secret}
    )
    assert response.status_code == 201, response.content
    assert response.json()["key"] == "kiosk"


def test_anonymous_write_is_401_not_csrf_403(brand):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/brands/bottega/touchpoints", {}, content_type="application/json"
    )
    assert_error(response, 401, "unauthorized")


def test_token_write_needs_no_csrf(owner, brand):
    secret = api_token_create(user=owner, name="ci").secret
    client = ApiClient(secret, client=Client(enforce_csrf_checks=True))
    assert client.post("/brands/bottega/touchpoints", {"name": "Kiosk"}).status_code == 201


def test_outsider_gets_404_before_the_body_is_validated(api_as, stranger, brand):
    outsider = api_as(stranger)
    assert_error(outsider.post("/brands/bottega/touchpoints", {}), 404, "not_found")
    assert_error(outsider.patch("/brands/bottega/members/1", {"role": 7}), 404, "not_found")
    assert_error(outsider.get("/brands/bottega/locations", {"limit": 0}), 404, "not_found")


def test_member_gets_422_for_a_bad_body(owner_api, brand):
    assert_error(owner_api.post("/brands/bottega/touchpoints", {}), 422, "invalid", "name")
