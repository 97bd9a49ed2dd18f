"""The fixed split of the labelled sets: a pure function of set and text."""

from opencx.analytics.text import data


def test_split_is_deterministic_and_near_the_stated_shares():
    splits = [data.split_of("xlmt_en", f"text {i}") for i in range(20000)]
    assert splits == [data.split_of("xlmt_en", f"text {i}") for i in range(20000)]
    share = {s: splits.count(s) / len(splits) for s in ("train", "validation", "heldout")}
    assert abs(share["heldout"] - 0.15) < 0.01
    assert abs(share["validation"] - 0.15) < 0.01


def test_the_split_rule_is_pinned():
    # bench/text_quality.py re-creates the held-out set with this rule: it must never drift
    assert [data.split_of("xlmt_de", t) for t in ("a", "b", "c", "d", "e", "f")] == [
        data.split_of("xlmt_de", t) for t in ("a", "b", "c", "d", "e", "f")
    ]
    import hashlib

    text = "Tolles Personal!"
    bucket = int.from_bytes(hashlib.sha256(f"xlmt_de\x00{text}".encode()).digest()[:8], "big") % 100
    expected = "heldout" if bucket < 15 else "validation" if bucket < 30 else "train"
    assert data.split_of("xlmt_de", text) == expected


def test_read_set_checks_labels(tmp_path):
    folder = tmp_path / "xlmt_en"
    folder.mkdir()
    (folder / "train.jsonl").write_text('{"text": "ok", "label": 2}\n\n{"text": "x", "label": 5}\n')
    rows = data.read_set(tmp_path, "xlmt_en")
    assert next(rows).label == 2
    try:
        next(rows)
    except ValueError as exc:
        assert ":3:" in str(exc)
    else:
        raise AssertionError("a bad label must be refused")
