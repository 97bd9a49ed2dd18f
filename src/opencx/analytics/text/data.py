"""The labelled sentiment sets and the fixed rule that splits them (training never sees `heldout`).

Each set is a folder holding `train.jsonl` (`{"text", "label"}`, 0 negative, 1 neutral,
2 positive); see ../shared/data/sentiment/README.md for their provenance.

The split is a pure function of the text: SHA-256 of `"<set>\\x00<text>"`, first 8 bytes as an
integer, modulo 100. Buckets 0–14 are `heldout` (15 %, scored by bench/text_quality.py and never
trained on), 15–29 `validation` (tunes regularisation, head weights and per-language priors),
the rest `train`. Because it hashes the text, a duplicated text always lands on one side.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Split = Literal["train", "validation", "heldout"]

# set name -> language (ISO 639-1)
SETS: dict[str, str] = {
    "xlmt_en": "en",
    "xlmt_it": "it",
    "xlmt_es": "es",
    "xlmt_fr": "fr",
    "xlmt_de": "de",
    "xlmt_pt": "pt",
    "rusentitweet_ru": "ru",
    "germeval2017_de": "de",
}
LABELS = ("negative", "neutral", "positive")
HELDOUT_PERCENT = 15
VALIDATION_PERCENT = 15


@dataclass(frozen=True, slots=True)
class Example:
    set_name: str
    language: str
    text: str
    label: int


def default_data_dir() -> Path:
    """`$OPENCX_SENTIMENT_DATA`, else ../shared/data/sentiment beside the repository."""
    env = os.environ.get("OPENCX_SENTIMENT_DATA")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[4]  # src/opencx/analytics/text -> repository
    return root.parent / "shared" / "data" / "sentiment"


def split_of(set_name: str, text: str) -> Split:
    digest = hashlib.sha256(f"{set_name}\x00{text}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % 100
    if bucket < HELDOUT_PERCENT:
        return "heldout"
    if bucket < HELDOUT_PERCENT + VALIDATION_PERCENT:
        return "validation"
    return "train"


def read_set(data_dir: Path, set_name: str) -> Iterator[Example]:
    path = data_dir / set_name / "train.jsonl"
    language = SETS[set_name]
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            label = row.get("label")
            text = row.get("text")
            if label not in (0, 1, 2) or not isinstance(text, str):
                raise ValueError(f"{path}:{number}: expected text and a label 0, 1 or 2")
            yield Example(set_name, language, text, label)


def load(data_dir: Path | None = None, split: Split | None = None) -> list[Example]:
    """Every example of the eight sets (in a fixed order), or those of one split."""
    base = data_dir or default_data_dir()
    out: list[Example] = []
    for set_name in SETS:
        for example in read_set(base, set_name):
            if split is None or split_of(set_name, example.text) == split:
                out.append(example)
    return out


def file_hashes(data_dir: Path | None = None) -> dict[str, str]:
    """SHA-256 of each set's train.jsonl, for the model's manifest."""
    base = data_dir or default_data_dir()
    return {
        name: hashlib.sha256((base / name / "train.jsonl").read_bytes()).hexdigest()
        for name in SETS
    }
