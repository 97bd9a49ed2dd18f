"""Reading `{"id", "text"}` JSON lines: every bad line is reported with its number and field."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MAX_TEXT_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class Record:
    line: int
    id: str | int
    text: str
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


def parse_line(number: int, line: str) -> Record | LineError | None:
    """One line: a Record, a LineError naming the field, or None for a blank line."""
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        return LineError(number, "(line)", f"not valid JSON ({reason})")
    if not isinstance(row, dict):
        return LineError(number, "(line)", "expected a JSON object with id and text")
    if "id" not in row:
        return LineError(number, "id", "missing")
    ident = row["id"]
    if isinstance(ident, bool) or not isinstance(ident, str | int):
        return LineError(number, "id", "must be a string or an integer")
    if isinstance(ident, str) and not ident.strip():
        return LineError(number, "id", "must not be empty")
    if "text" not in row:
        return LineError(number, "text", "missing")
    text = row["text"]
    if not isinstance(text, str):
        return LineError(number, "text", "must be a string")
    if len(text) > MAX_TEXT_CHARS:
        return LineError(number, "text", f"longer than {MAX_TEXT_CHARS} characters")
    return Record(number, ident, text, row)


def parse_lines(lines: Iterable[str]) -> Iterator[Record | LineError]:
    for number, line in enumerate(lines, start=1):
        parsed = parse_line(number, line)
        if parsed is not None:
            yield parsed
