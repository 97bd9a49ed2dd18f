import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opencx.feedback.models import ImportRun, QuarantinedRow
from opencx.platform.roles import Role
from opencx.platform.services import api_token_create

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def api(client, owner, store, sibling_store, settings, tmp_path, immediate_tasks):
    settings.DATA_DIR = tmp_path
    token = api_token_create(user=owner, name="t").secret
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_upload_runs_and_quarantine(api, django_capture_on_commit_callbacks):
    content = (FIXTURES / "reviews_broken.csv").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/brands/bottega/feedback-imports",
            {"file": SimpleUploadedFile("r.csv", content), "mapping": "reviews"},
        )
    assert response.status_code == 201, response.json()
    run_id = response.json()["id"]
    run = api.get(f"/api/v1/brands/bottega/feedback-imports/{run_id}").json()
    assert (run["status"], run["created"], run["quarantined"]) == ("done", 4, 6)
    rows = api.get(f"/api/v1/brands/bottega/feedback-imports/{run_id}/quarantine").json()
    assert rows["count"] == 6
    first = rows["items"][0]
    assert (first["line"], first["errors"][0]["field"]) == (4, "occurred_at")
    fixed = api.post(
        f"/api/v1/brands/bottega/feedback-quarantine/{first['id']}/retry",
        data=json.dumps({"raw": {**first["raw"], "date": "2025-03-03"}}),
        content_type="application/json",
    )
    assert fixed.json()["status"] == "stored"
    again = api.post(
        "/api/v1/brands/bottega/feedback-imports",
        {"file": SimpleUploadedFile("r.csv", content), "mapping": "reviews"},
    )
    assert again.status_code == 200 and again.json()["id"] == run_id
    discarded = api.post(
        f"/api/v1/brands/bottega/feedback-quarantine/{rows['items'][1]['id']}/discard"
    )
    assert discarded.json()["status"] == "discarded"
    retried = api.post(f"/api/v1/brands/bottega/feedback-imports/{run_id}/retry").json()
    assert retried == {"stored": 0, "still_open": 4}
    assert QuarantinedRow.objects.filter(status="open").count() == 4


def test_bad_mapping_is_400_naming_the_field(api):
    response = api.post(
        "/api/v1/brands/bottega/feedback-imports",
        {"file": SimpleUploadedFile("r.csv", b"a\n1\n"), "mapping": '{"fields": {"text": "a"}}'},
    )
    assert response.status_code == 400 and response.json()["field"] == "occurred_at"
    assert not ImportRun.objects.exists()


def test_webhook_sources(api):
    created = api.post(
        "/api/v1/brands/bottega/feedback-webhooks",
        data=json.dumps({"name": "Shop"}),
        content_type="application/json",
    ).json()
    assert created["secret"] and created["url"].endswith(
        f"/api/v1/feedback/webhooks/{created['key']}"
    )
    listed = api.get("/api/v1/brands/bottega/feedback-webhooks").json()
    assert "secret" not in listed[0]
    rotated = api.post(f"/api/v1/brands/bottega/feedback-webhooks/{created['id']}/rotate-secret")
    assert rotated.json()["secret"] != created["secret"]
    assert (
        api.delete(f"/api/v1/brands/bottega/feedback-webhooks/{created['id']}").status_code == 204
    )


def test_a_location_scoped_manager_sees_no_imports(client, make_actor, store):
    manager = make_actor(Role.CX_MANAGER, store)
    token = api_token_create(user=manager.user, name="t").secret
    response = client.get(
        "/api/v1/brands/bottega/feedback-imports", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404
