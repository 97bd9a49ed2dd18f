from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opencx.contacts.models import Contact, Identity
from opencx.feedback import services
from opencx.feedback.mappings import mapping_from_dict, ready_mapping
from opencx.feedback.models import FeedbackItem, ImportRun, QuarantinedRow
from opencx.platform.errors import AppError, Conflict, Forbidden, NotFound
from opencx.platform.events import subscribe
from opencx.platform.roles import Role

FIXTURES = Path(__file__).parent / "fixtures"


def import_file(actor, path, mapping="reviews", **kwargs):
    mapping = ready_mapping(mapping) if isinstance(mapping, str) else mapping
    run, state = services.import_run_create(actor=actor, path=path, mapping=mapping, **kwargs)
    return services.import_run_execute(run_id=run.pk), state


def write(tmp_path, text, name="in.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def actor(owner_actor, store, sibling_store):
    return owner_actor


def test_import_stores_good_rows_and_quarantines_bad_ones(actor, store):
    run, state = import_file(actor, FIXTURES / "reviews_broken.csv")
    assert state == "new" and run.status == ImportRun.Status.DONE
    assert (run.rows_read, run.created, run.quarantined) == (10, 4, 6)
    item = FeedbackItem.objects.get(external_id="r-1")
    assert (item.location, item.rating, item.rating_scale, item.import_run) == (
        store,
        4 + 1,
        5,
        run,
    )
    assert item.contact.identities.get().value == "giulia@example.test"
    assert item.occurred_at == datetime(2025, 3, 1, 10, 15, tzinfo=UTC)  # brand zone is UTC
    rows = {row.line: row for row in QuarantinedRow.objects.filter(run=run)}
    assert rows[4].raw["date"] == "yesterday-ish"
    assert rows[4].errors == [
        {"field": "occurred_at", "reason": "'yesterday-ish' is not a date and time"}
    ]


def test_each_stored_item_emits_feedback_received_after_commit(
    actor, django_capture_on_commit_callbacks
):
    seen = []
    handler = subscribe(services.FEEDBACK_RECEIVED)(lambda **kw: seen.append(kw))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run, _ = import_file(actor, FIXTURES / "trustpilot.csv", "trustpilot")
    finally:
        from opencx.platform import events

        events._handlers[services.FEEDBACK_RECEIVED].remove(handler)
    ids = set(FeedbackItem.objects.values_list("pk", flat=True))
    assert {kw["feedback_id"] for kw in seen} == ids and len(seen) == 3
    assert {kw["brand_id"] for kw in seen} == {actor.brand.pk}


def test_rows_without_an_id_get_a_stable_one(actor, tmp_path):
    path = write(tmp_path, "date,author,text\n2025-01-01,Ann,Nice\n2025-01-02,Bob,Bad\n")
    import_file(actor, path)
    first = set(FeedbackItem.objects.values_list("external_id", flat=True))
    path.write_text("date,author,text\n2025-01-02,Bob,Bad\n2025-01-01,Ann,Nice\n2025-01-03,C,New\n")
    run, _ = import_file(actor, path)
    assert (run.created, run.already_present) == (1, 2)
    assert first < set(FeedbackItem.objects.values_list("external_id", flat=True))


def test_near_duplicates_from_the_same_author_are_kept_as_one(actor, tmp_path):
    path = write(
        tmp_path,
        "id,date,author,text\n"
        "a,2025-01-01,Ann Lee,Great coffee!\n"
        "b,2025-01-03,ann lee,great  coffee\n"  # same words, two days later: one
        "c,2025-01-03,Bob,Great coffee!\n"  # another author: its own item
        "d,2025-03-01,Ann Lee,Great coffee!\n",  # weeks later: said again
    )
    run, _ = import_file(actor, path)
    assert (run.created, run.near_duplicates) == (3, 1)
    assert sorted(FeedbackItem.objects.values_list("external_id", flat=True)) == ["a", "c", "d"]


def test_the_same_id_twice_in_one_file_is_one_item(actor, tmp_path):
    path = write(tmp_path, "id,date,text\nx,2025-01-01,One\nx,2025-01-02,Two\n")
    run, _ = import_file(actor, path)
    assert (run.created, run.already_present) == (1, 1)


def test_resume_skips_what_the_checkpoint_covers(actor, tmp_path, monkeypatch):
    lines = "".join(f"{n},2025-01-01,Text {n}\n" for n in range(1, 1201))
    path = write(tmp_path, "id,date,text\n" + lines)
    run, state = services.import_run_create(
        actor=actor, path=path, mapping=ready_mapping("reviews")
    )
    calls = []

    def stop_after_two_batches(done, size):
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        services.import_run_execute(run_id=run.pk, progress=stop_after_two_batches)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and run.created == 1000
    again, state = services.import_run_create(
        actor=actor, path=path, mapping=ready_mapping("reviews")
    )
    assert (again.pk, state) == (run.pk, "resumed")
    again = services.import_run_execute(run_id=run.pk)
    assert (again.status, again.rows_read, again.created) == ("done", 1200, 1200)
    assert FeedbackItem.objects.count() == 1200


def test_a_live_run_is_not_resumed_twice(actor, tmp_path):
    path = write(tmp_path, "id,date,text\n1,2025-01-01,x\n")
    run, _ = services.import_run_create(actor=actor, path=path, mapping=ready_mapping("reviews"))
    ImportRun.objects.filter(pk=run.pk).update(
        status="running",
        worker=f"{services.socket.gethostname()}:1",
        heartbeat_at=services.timezone.now(),
    )
    with pytest.raises(Conflict):
        services.import_run_create(actor=actor, path=path, mapping=ready_mapping("reviews"))


def test_unreadable_file_fails_the_run_with_the_reason(actor, tmp_path):
    path = write(tmp_path, "", name="empty.csv")
    run, _ = import_file(actor, path)
    assert run.status == ImportRun.Status.FAILED and "empty" in run.error


@pytest.mark.parametrize(("role", "location", "error"), [
    (Role.VIEWER, None, Forbidden),
    (Role.CX_MANAGER, "store", NotFound),
])  # fmt: skip
def test_only_brand_wide_feedback_managers_import(
    make_actor, store, tmp_path, role, location, error
):
    member = make_actor(role, store if location else None)
    with pytest.raises(error):
        services.import_run_create(
            actor=member, path=write(tmp_path, "id\n"), mapping=ready_mapping("reviews")
        )


def test_retry_with_edited_values_and_discard(actor):
    run, _ = import_file(actor, FIXTURES / "reviews_broken.csv")
    row = QuarantinedRow.objects.get(run=run, line=4)
    still = services.quarantined_row_retry(actor=actor, row=row, raw={**row.raw, "date": "soon"})
    assert still.status == "open" and still.errors[0]["reason"] == "'soon' is not a date and time"
    stored = services.quarantined_row_retry(
        actor=actor, row=row, raw={**row.raw, "date": "2025-03-03"}
    )
    assert stored.status == "stored" and stored.item.external_id == "r-3"
    with pytest.raises(Conflict):
        services.quarantined_row_retry(actor=actor, row=stored)
    other = QuarantinedRow.objects.get(run=run, line=5)
    services.quarantined_row_discard(actor=actor, row=other)
    run.refresh_from_db()
    assert (run.created, run.quarantined) == (5, 4)


def test_contacts_are_matched_by_identity_or_made(actor):
    from tests.factories import ContactFactory

    known = ContactFactory(brand=actor.brand)
    Identity.objects.create(
        brand=actor.brand, contact=known, kind="email", value="giulia@example.test"
    )
    Identity.objects.create(brand=actor.brand, contact=known, kind="x", value="marco_dev")
    import_file(actor, FIXTURES / "reviews_broken.csv")
    import_file(actor, FIXTURES / "x_tweets.js", "x")
    assert FeedbackItem.objects.get(external_id="r-1").contact == known
    assert FeedbackItem.objects.get(external_id="1760001112223334445").contact == known
    assert FeedbackItem.objects.get(external_id="1760001112223334446").contact is None
    assert Contact.objects.filter(identities__value="anna@example.test").exists()


def test_upload_preview_and_configure(actor, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    content = (FIXTURES / "trustpilot.csv").read_bytes()
    draft = services.import_upload_store(actor=actor, upload=SimpleUploadedFile("tp.csv", content))
    assert Path(draft.file_path).read_bytes() == content and draft.status == "draft"
    columns, rows = services.import_preview(actor=actor, run=draft)
    assert columns[0] == "Review ID" and len(rows) == 3
    run, state = services.import_run_configure(
        actor=actor, run=draft, mapping=ready_mapping("trustpilot")
    )
    assert (state, run.status) == ("new", "queued")
    services.import_run_execute(run_id=run.pk)
    again = services.import_upload_store(actor=actor, upload=SimpleUploadedFile("tp.csv", content))
    done, state = services.import_run_configure(
        actor=actor, run=again, mapping=ready_mapping("trustpilot")
    )
    assert (done.pk, state) == (run.pk, "done")
    assert not ImportRun.objects.filter(pk=again.pk).exists()
    with pytest.raises(AppError):
        services.import_upload_store(actor=actor, upload=SimpleUploadedFile("a.pdf", b"x"))


def test_webhook_delivery_is_all_or_nothing_and_idempotent(actor):
    source = services.webhook_source_create(actor=actor, name="Widget")
    items = [
        {"external_id": "w1", "occurred_at": "2025-01-01T10:00:00Z", "text": "Good", "rating": 5},
        {"external_id": "w2", "occurred_at": "2025-01-01T11:00:00Z", "text": "Bad", "rating": 9},
    ]
    with pytest.raises(AppError) as error:
        services.webhook_receive(source=source, records=items)
    assert error.value.field == "items[1].rating"
    assert not FeedbackItem.objects.exists()
    items[1]["rating"] = 1
    first = services.webhook_receive(source=source, records=items)
    again = services.webhook_receive(source=source, records=items)
    assert (len(first.created), len(again.created), again.already_present) == (2, 0, 2)
    assert FeedbackItem.objects.filter(source="webhook").count() == 2


def test_a_custom_mapping_reads_nested_json(actor, tmp_path):
    path = write(tmp_path, '[{"r": {"id": 7, "at": "2025-01-01"}, "body": "ok"}]', name="a.json")
    mapping = mapping_from_dict(
        {"source": "app", "fields": {"external_id": "r.id", "occurred_at": "r.at", "text": "body"}}
    )
    run, _ = import_file(actor, path, mapping)
    assert run.created == 1 and FeedbackItem.objects.get().external_id == "7"
