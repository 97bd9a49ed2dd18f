"""`opencx import` as people run it: in-process for the report, and as a real process killed
with SIGKILL half-way and run again."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from opencx.feedback.models import FeedbackItem, ImportRun, QuarantinedRow

FIXTURES = Path(__file__).parent.parent / "fixtures"
OPENCX = Path(sys.executable).with_name("opencx")


def run_import(*args):
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command("import", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def importer(brand, store, sibling_store, owner):
    return brand


def test_broken_rows_are_reported_precisely_and_nothing_good_is_lost(importer):
    code, out, err = run_import(
        "--brand", "bottega", str(FIXTURES / "reviews_broken.csv"), "--mapping", "reviews"
    )
    assert code == 2
    assert err.splitlines() == [
        "reviews_broken.csv:4: occurred_at: 'yesterday-ish' is not a date and time",
        "reviews_broken.csv:5: rating: 7 is outside the scale 1–5",
        "reviews_broken.csv:6: location: no location with code or name 'paris'",
        "reviews_broken.csv:7: email: 'kenji@example' is not an e-mail address",
        "reviews_broken.csv:8: text: empty: no text, title or rating",
        "reviews_broken.csv:11: row: 3 fields where the header has 8",
    ]
    assert "10 rows read, 4 new, 0 already present, 0 near-duplicates, 6 quarantined" in out
    assert sorted(FeedbackItem.objects.values_list("external_id", flat=True)) == [
        "r-1",
        "r-10",
        "r-2",
        "r-8",
    ]
    assert QuarantinedRow.objects.count() == 6
    # Run again: nothing added, the same report.
    code, out, err = run_import(
        "--brand", "bottega", str(FIXTURES / "reviews_broken.csv"), "--mapping", "reviews"
    )
    assert code == 2 and "was imported with this mapping" in err
    assert FeedbackItem.objects.count() == 4 and QuarantinedRow.objects.count() == 6
    # Read again on purpose: still nothing twice.
    run_import(
        "--brand",
        "bottega",
        str(FIXTURES / "reviews_broken.csv"),
        "--mapping",
        "reviews",
        "--again",
    )
    assert FeedbackItem.objects.count() == 4


def test_retry_from_the_cli_after_fixing_the_cause(importer, make_actor):
    from tests.factories import LocationFactory

    run_import("--brand", "bottega", str(FIXTURES / "reviews_broken.csv"), "--mapping", "reviews")
    LocationFactory(brand=importer, name="Paris", code="paris")
    run = ImportRun.objects.get()
    code, out, err = run_import("--brand", "bottega", "--retry", str(run.pk))
    assert code == 2
    assert f"Import {run.pk}: 1 rows stored, 5 still quarantined." in out
    assert FeedbackItem.objects.filter(external_id="r-5", location__code="paris").exists()


@pytest.mark.parametrize(
    ("name", "mapping", "extra", "created"),
    [
        ("google_reviews.json", "google", ["--location", "milano"], 3),
        ("trustpilot.csv", "trustpilot", [], 3),
        ("x_tweets.js", "x", [], 2),
        ("x_api_v2.json", "x", [], 2),
        ("facebook_comments.json", "facebook", [], 2),
        ("instagram_comments.json", "instagram", [], 2),
        ("zendesk_tickets.csv", "zendesk", [], 3),
        ("freshdesk_tickets.csv", "freshdesk", [], 2),
        ("chats.jsonl", "chat", [], 2),
        ("mail", "email", [], 2),
        ("support.mbox", "email", [], 2),
    ],
)
def test_every_ready_mapping_reads_its_recorded_export(importer, name, mapping, extra, created):
    run_import("--brand", "bottega", str(FIXTURES / name), "--mapping", mapping, *extra)
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DONE, run.error
    assert run.created == created, list(QuarantinedRow.objects.values_list("errors", flat=True))
    assert run.rows_read == run.created + run.quarantined


def test_google_reviews_land_at_the_named_location(importer, store):
    run_import(
        "--brand", "bottega", str(FIXTURES / "google_reviews.json"), "--mapping", "google",
        "--location", "milano",
    )  # fmt: skip
    assert set(FeedbackItem.objects.values_list("location", flat=True)) == {store.pk}


def test_map_options_and_a_mapping_file(importer, tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("Wann;Kommentar;Sterne\n2025-01-05 10:00;Sehr gut;9\n")
    code, out, _ = run_import(
        "--brand", "bottega", str(data), "--map", "Wann=occurred_at", "--map", "Kommentar=text",
        "--map", "Sterne=rating", "--source", "kiosk",
    )  # fmt: skip
    assert code == 2, out  # 9 is not on the default five-star scale
    assert QuarantinedRow.objects.get().errors[0]["field"] == "rating"
    code, out, _ = run_import(
        "--brand", "bottega", str(data), "--map", "Wann=occurred_at", "--map", "Kommentar=text",
        "--map", "Sterne=rating", "--source", "kiosk", "--rating-scale", "10",
    )  # fmt: skip
    assert code == 0, out
    assert FeedbackItem.objects.get().rating == 9
    mapping = tmp_path / "m.yaml"
    mapping.write_text("based_on: reviews\nrating_scale: 10\nsource: kiosk2\n")
    data.write_text("date,text,stars\n2025-01-05 10:00,Ottimo,9\n")
    assert run_import("--brand", "bottega", str(data), "--mapping", str(mapping))[0] == 0
    item = FeedbackItem.objects.get(source="kiosk2")
    assert (item.rating, item.rating_scale) == (9, 10)


def test_unusable_input_is_a_clear_error(importer, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run_import("--brand", "bottega", str(tmp_path / "nope.csv"), "--mapping", "reviews")
    with pytest.raises(CommandError, match="no ready mapping of that name"):
        run_import("--brand", "bottega", str(FIXTURES / "trustpilot.csv"), "--mapping", "nope")
    with pytest.raises(CommandError, match="no location"):
        run_import(
            "--brand", "bottega", str(FIXTURES / "trustpilot.csv"), "--mapping", "trustpilot",
            "--location", "atlantis",
        )  # fmt: skip
    odd = tmp_path / "a.docx"
    odd.write_text("x")
    with pytest.raises(CommandError, match="cannot tell the format"):
        run_import("--brand", "bottega", str(odd), "--mapping", "reviews")


def test_list_mappings():
    code, out, _ = run_import("--list-mappings")
    assert "trustpilot" in out and "zendesk" in out


# --- a real process, killed -------------------------------------------------------------------

ROWS = 6000
BAD_EVERY = 250


def _write_file(path: Path) -> set[str]:
    good = set()
    with path.open("w") as handle:
        handle.write("id,date,author,stars,text,location\n")
        for n in range(1, ROWS + 1):
            if n % BAD_EVERY == 0:
                handle.write(f"k-{n},not a date,Bad {n},3,Broken row,milano\n")
                continue
            handle.write(
                f"k-{n},2025-01-01 10:{n % 60:02d},Customer {n},4,Review number {n},milano\n"
            )
            good.add(f"k-{n}")
    return good


def _env(tmp_path):
    return {
        **os.environ,
        "OPENCX_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "opencx.config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'kill.sqlite3'}",
    }


SETUP = """
from opencx.platform.models import User
from opencx.platform.actor import Actor
from opencx.platform.services import brand_create, location_create
owner = User.objects.create_user(email="o@example.test", password="x")
brand = brand_create(owner=owner, name="Kill", slug="kill")
actor = Actor(user=owner, brand=brand, membership=owner.memberships.get())
location_create(actor=actor, name="Milano", code="milano")
"""


def test_an_import_killed_half_way_and_run_again_stores_every_good_row_once(tmp_path):
    (tmp_path / "data").mkdir()
    env = _env(tmp_path)
    database = tmp_path / "data" / "kill.sqlite3"
    subprocess.run([OPENCX, "migrate", "-v0"], env=env, check=True, timeout=180)
    subprocess.run([OPENCX, "shell", "-c", SETUP], env=env, check=True, timeout=60)
    data = tmp_path / "big.csv"
    good = _write_file(data)
    command = [OPENCX, "import", "--brand", "kill", str(data), "--mapping", "reviews"]

    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    checkpoint = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        try:
            with sqlite3.connect(database, timeout=1) as db:
                row = db.execute("select checkpoint from feedback_importrun").fetchone()
        except sqlite3.OperationalError:
            continue
        checkpoint = row[0] if row else 0
        if checkpoint >= 1000:
            break
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    with sqlite3.connect(database) as db:
        status, stored_before = db.execute(
            "select status, (select count(*) from feedback_feedbackitem) from feedback_importrun"
        ).fetchone()
    assert status == "running" and 0 < stored_before < len(good)

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert again.returncode == 2, again.stderr
    assert "Resuming import" in again.stderr
    with sqlite3.connect(database) as db:
        ids = [r[0] for r in db.execute("select external_id from feedback_feedbackitem")]
        quarantined = db.execute(
            "select count(*), count(distinct number) from feedback_quarantinedrow"
        ).fetchone()
        run = db.execute(
            "select status, rows_read, created, quarantined from feedback_importrun"
        ).fetchall()
    assert len(ids) == len(set(ids)), "an item was stored twice"
    assert set(ids) == good
    assert quarantined == (ROWS // BAD_EVERY, ROWS // BAD_EVERY)
    assert run == [("done", ROWS, len(good), ROWS // BAD_EVERY)]
    lines = [line for line in again.stderr.splitlines() if ": occurred_at:" in line]
    # The rows quarantined before the kill are in the run; the report after resuming names the rest.
    assert all(line.startswith("big.csv:") for line in lines)
