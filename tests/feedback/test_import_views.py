from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opencx.feedback.models import FeedbackItem, ImportRun, QuarantinedRow, WebhookSource
from opencx.platform.roles import Role

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def manager(client, owner, store, sibling_store, settings, tmp_path, immediate_tasks):
    settings.DATA_DIR = tmp_path
    client.force_login(owner)
    return client


def upload(client, name="reviews_broken.csv"):
    return client.post(
        "/b/bottega/feedback/imports/",
        {"file": SimpleUploadedFile(name, (FIXTURES / name).read_bytes())},
    )


def test_upload_preview_map_run_and_fix_a_row(manager, django_capture_on_commit_callbacks):
    response = upload(manager)
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/imports/{run.pk}/")
    page = manager.get(response.url)
    assert page.status_code == 200
    assert b"Giulia Rossi" in page.content and b"map_text" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        done = manager.post(response.url, {"ready": "reviews"})
    assert done.status_code == 302
    run.refresh_from_db()
    assert (run.status, run.created, run.quarantined) == ("done", 4, 6)
    report = manager.get(done.url)
    assert b"reviews_broken.csv:11: row: 3 fields where the header has 8" in report.content
    polled = manager.get(done.url, headers={"HX-Request": "true"})
    assert b'id="progress"' in polled.content and b"<h1>" not in polled.content
    quarantine = manager.get(f"/b/bottega/feedback/imports/{run.pk}/quarantine/")
    assert b"yesterday-ish" in quarantine.content
    row = QuarantinedRow.objects.get(run=run, line=4)
    fields = {f"raw_{k}": v for k, v in row.raw.items()}
    with django_capture_on_commit_callbacks(execute=True):
        fixed = manager.post(
            f"/b/bottega/feedback/quarantine/{row.pk}/retry/", {**fields, "raw_date": "2025-03-03"}
        )
    assert fixed.status_code == 302
    assert FeedbackItem.objects.filter(external_id="r-3").exists()
    discard = QuarantinedRow.objects.get(run=run, line=5)
    manager.post(f"/b/bottega/feedback/quarantine/{discard.pk}/discard/")
    discard.refresh_from_db()
    assert discard.status == "discarded"


def test_mapping_errors_name_the_field(manager):
    upload(manager)
    run = ImportRun.objects.get()
    response = manager.post(f"/b/bottega/feedback/imports/{run.pk}/", {"map_text": "text"})
    assert response.status_code == 400 and b"occurred_at" in response.content
    assert ImportRun.objects.get().status == "draft"


def test_webhook_sources_page(manager):
    response = manager.post("/b/bottega/feedback/webhooks/", {"name": "Widget", "ready": "reviews"})
    source = WebhookSource.objects.get()
    assert response.status_code == 201 and source.secret.encode() in response.content
    assert source.key.encode() in manager.get("/b/bottega/feedback/webhooks/").content
    manager.post(f"/b/bottega/feedback/webhooks/{source.pk}/rotate/")
    assert WebhookSource.objects.get().secret != source.secret
    manager.post(f"/b/bottega/feedback/webhooks/{source.pk}/delete/")
    assert not WebhookSource.objects.exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_lower_roles_cannot_import(client, make_actor, role):
    client.force_login(make_actor(role).user)
    assert client.get("/b/bottega/feedback/imports/").status_code == 403
