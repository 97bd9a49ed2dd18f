"""`opencx text analyze` on JSON-lines files: 10,000 lines, bad lines, redaction, usage errors."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from opencx.analytics.cli_text import analyze_file, main

PHRASES = {
    "en": [
        "The staff were really friendly",
        "I waited forty minutes in the queue",
        "Delivery was late again",
        "Great prices and lovely shop",
        "The app keeps crashing",
    ],
    "de": [
        "Das Personal war sehr unfreundlich",
        "Die Lieferung kam zu spät",
        "Tolle Preise und sauberer Laden",
        "Die Rechnung war falsch",
    ],
    "fr": [
        "Le personnel était très aimable",
        "Le colis est arrivé en retard",
        "Les prix sont trop chers",
        "Le magasin était sale",
    ],
    "it": [
        "Il personale era gentilissimo",
        "Abbiamo aspettato troppo in coda",
        "La consegna è arrivata in ritardo",
        "Prezzi troppo cari",
    ],
}


def _synthetic(path: Path, lines: int, bad: dict[int, str] | None = None) -> None:
    rng = np.random.default_rng(5)
    languages = sorted(PHRASES)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(1, lines + 1):
            if bad and number in bad:
                handle.write(bad[number] + "\n")
                continue
            phrases = PHRASES[languages[number % len(languages)]]
            text = ". ".join(phrases[int(i)] for i in rng.integers(0, len(phrases), 2)) + "."
            handle.write(json.dumps({"id": f"c{number}", "text": text, "source": "test"}) + "\n")


def test_ten_thousand_lines_in_fast_mode(tmp_path):
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    bad = {17: "{not json", 4242: '{"id": "x"}', 9999: '{"id": [1], "text": "hi"}'}
    _synthetic(source, 10_000, bad)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "opencx.cli",
            "text",
            "analyze",
            "--input",
            str(source),
            "--output",
            str(target),
            "--mode",
            "fast",
            "--languages",
            "en,de,fr,it,cy",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert f"{source}:17: (line): not valid JSON" in done.stderr
    assert f"{source}:4242: text: missing" in done.stderr
    assert f"{source}:9999: id: must be a string or an integer" in done.stderr
    assert "9997 lines analysed, 3 bad lines skipped" in done.stderr
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 9997
    assert rows[0]["id"] == "c1" and rows[0]["source"] == "test"
    for row in rows:
        assert row["language"] in {"en", "de", "fr", "it", "cy"}
        assert row["sentiment"] in {"negative", "neutral", "positive"}
        assert -1 <= row["sentiment_score"] <= 1
        assert isinstance(row["topics"], list) and isinstance(row["keyphrases"], list)
    languages = sorted(PHRASES)
    right = sum(r["language"] == languages[int(r["id"][1:]) % len(languages)] for r in rows)
    assert right / len(rows) > 0.99
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_redaction_and_sentiment_in_process(tmp_path):
    source = io.StringIO(
        json.dumps({"id": 1, "text": "Terrible service, rude staff. Call me on +44 20 7946 0958"})
        + "\n"
        + json.dumps(
            {"id": 2, "text": "Wonderful shop, lovely staff, great prices! ana@example.com"}
        )
        + "\n"
    )
    sink, errors = io.StringIO(), io.StringIO()
    written, bad = analyze_file(
        source,
        sink,
        name="in",
        languages=["en"],
        mode="fast",
        redact=True,
        batch_size=1,
        errors=errors,
        progress=False,
    )
    assert (written, bad) == (2, 0)
    first, second = (json.loads(line) for line in sink.getvalue().splitlines())
    assert first["text"].endswith("[phone]") and "[email]" in second["text"]
    assert first["sentiment"] == "negative" and second["sentiment"] == "positive"
    assert "staff_friendliness" in first["topics"]
    assert "phone" not in first["keyphrases"]


def test_usage_errors(tmp_path, capsys):
    assert main(["analyze", "--input", str(tmp_path / "missing.jsonl"), "--output", "o"]) == 2
    assert "--input" in capsys.readouterr().err
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "hi"}\n')
    args = ["analyze", "--input", str(source), "--output", str(tmp_path / "o.jsonl")]
    assert main([*args, "--languages", "en,zz"]) == 2
    assert "zz" in capsys.readouterr().err
    assert main([*args, "--batch-size", "0"]) == 2


def test_a_transformer_directory_without_a_model_is_a_usage_error(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "hi"}\n')
    output = tmp_path / "o.jsonl"
    args = ["analyze", "--input", str(source), "--output", str(output)]
    assert main([*args, "--transformer", str(tmp_path)]) == 2
    assert "--transformer:" in capsys.readouterr().err
    assert not output.exists()


class _Polarity:
    """A user-supplied sentiment model in the shape `analyze` takes (the optional transformer
    extra gives the same `probabilities`): everything with "love" is positive, else negative."""

    def probabilities(self, texts):
        return np.array([[0.0, 0.1, 0.9] if "love" in t else [0.8, 0.2, 0.0] for t in texts])


def test_a_user_supplied_model_gives_the_sentiment(tmp_path):
    source = io.StringIO(
        '{"id": 1, "text": "I love waiting in the queue"}\n{"id": 2, "text": "Great shop"}\n'
    )
    sink = io.StringIO()
    analyze_file(
        source,
        sink,
        name="in",
        languages=["en"],
        mode="fast",
        redact=False,
        batch_size=8,
        errors=io.StringIO(),
        progress=False,
        sentiment_model=_Polarity(),
    )
    rows = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [(r["sentiment"], r["sentiment_score"]) for r in rows] == [
        ("positive", 0.9),
        ("negative", -0.8),
    ]
    assert "waiting_time" in rows[0]["topics"]
