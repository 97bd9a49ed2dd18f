"""Streaming readers: one record at a time from CSV, XLSX, JSON, JSONL, .eml and mbox files.

Each reader yields `Record`s in file order, each with a number that only grows (the line a
record starts on, or its position) so an interrupted import can resume after the last one it
committed. Memory stays bounded whatever the file's size: nothing is read whole except one
record, and one record may not exceed `MAX_RECORD_BYTES` (a larger one is reported, not read).

A record the reader cannot make sense of (a CSV row with the wrong number of fields, a JSON line
that does not parse, bytes that are not text in the file's encoding) still comes out, with
`error` naming the field and the reason, so the import can quarantine it and go on.
"""

import codecs
import csv
import email
import email.policy
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

MAX_RECORD_BYTES = 4 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
CHUNK_BYTES = 256 * 1024
FORMATS = ("csv", "xlsx", "json", "jsonl", "eml", "mbox")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".js": "json",  # X's archive (tweets.js): a JavaScript assignment around a JSON array
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".eml": "eml",
    ".mbox": "mbox",
    ".mbx": "mbox",
}


class ReaderError(Exception):
    """The file as a whole cannot be read (not the format it claims, empty, no header)."""


@dataclass
class Record:
    number: int  # grows through the file; what a resumed import skips up to
    line: int  # where a person finds it: line in the file (XLSX: row; a folder of .eml: index)
    data: dict | None  # the record's fields; None when the reader could not make it out
    error_field: str = ""
    error: str = ""
    raw: dict = field(default_factory=dict)  # what to keep in quarantine when data is None
    where: str = ""  # the file inside a folder of .eml files


def detect_format(path: Path, declared: str = "") -> str:
    if declared:
        if declared not in FORMATS:
            raise ReaderError(f"Unknown format {declared!r}: one of {', '.join(FORMATS)}.")
        return declared
    if path.is_dir():
        return "eml"
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise ReaderError(
            f"{path.name}: cannot tell the format from the extension; name it (one of "
            f"{', '.join(FORMATS)})."
        )
    return fmt


class Source:
    """A file opened for reading, with how far through it the reader is (for progress)."""

    def __init__(self, path: Path, fmt: str = ""):
        self.path = Path(path)
        self.format = detect_format(self.path, fmt)
        if self.path.is_dir():
            self.size = sum(p.stat().st_size for p in sorted(self.path.glob("*.eml")))
        else:
            self.size = self.path.stat().st_size
        self.position = 0

    def records(self) -> Iterator[Record]:
        reader = {
            "csv": self._csv,
            "xlsx": self._xlsx,
            "json": self._json,
            "jsonl": self._jsonl,
            "eml": self._eml,
            "mbox": self._mbox,
        }[self.format]
        return reader()

    # --- CSV ----------------------------------------------------------------------------------

    def _csv(self) -> Iterator[Record]:
        with self.path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
            encoding, bom = detect_encoding(head)
            handle.seek(len(bom))
            sample = head[len(bom) :].decode(encoding, errors="replace")
            dialect = sniff_dialect(sample)
            bad_lines: set[int] = set()
            lines = self._decoded_lines(handle, encoding, bad_lines, start=len(bom))
            csv.field_size_limit(MAX_RECORD_BYTES)
            reader = csv.reader(lines, dialect)
            try:
                header = next(reader)
            except StopIteration:
                raise ReaderError(f"{self.path.name}: the file is empty.") from None
            except csv.Error as error:
                message = f"{self.path.name}: line 1: cannot read the header ({error})."
                raise ReaderError(message) from None
            header = _unique_header(header)
            if not any(header):
                raise ReaderError(f"{self.path.name}: line 1: the header is empty.")
            previous = reader.line_num
            while True:
                start = previous + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    previous = reader.line_num
                    yield Record(start, start, None, "row", f"unreadable CSV ({error})")
                    continue
                previous = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                raw = dict(zip(header, row, strict=False))
                if any(n in bad_lines for n in range(start, previous + 1)):
                    yield Record(
                        start,
                        start,
                        None,
                        "encoding",
                        f"bytes that are not {encoding} text (shown as \ufffd)",
                        raw=raw,
                    )
                    continue
                if len(row) != len(header):
                    if len(row) > len(header):
                        raw["_extra"] = row[len(header) :]
                    yield Record(
                        start,
                        start,
                        None,
                        "row",
                        f"{len(row)} fields where the header has {len(header)}",
                        raw=raw,
                    )
                    continue
                yield Record(start, start, raw)

    def _decoded_lines(self, handle, encoding: str, bad_lines: set[int], start: int):
        """Lines as text; a line with bytes not in the encoding is decoded with replacement and
        its number kept in `bad_lines`, so the row it belongs to is reported, not guessed."""
        self.position = start
        number = 0
        if encoding.startswith("utf-16"):
            # UTF-16 has NUL bytes in every line ending: decode incrementally instead.
            text = io.TextIOWrapper(handle, encoding=encoding, errors="replace", newline="")
            for number, line in enumerate(text, start=1):
                self.position = handle.tell()
                if "\ufffd" in line:
                    bad_lines.add(number)
                yield line
            return
        for number, chunk in enumerate(handle, start=1):  # noqa: B007
            self.position += len(chunk)
            try:
                yield chunk.decode(encoding)
            except UnicodeDecodeError:
                bad_lines.add(number)
                yield chunk.decode(encoding, errors="replace")

    # --- XLSX ---------------------------------------------------------------------------------

    def _xlsx(self) -> Iterator[Record]:
        from openpyxl import load_workbook

        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many types for a file that is not XLSX
            raise ReaderError(f"{self.path.name}: not an XLSX workbook ({error}).") from None
        try:
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = None
            for number, row in enumerate(rows, start=1):
                if header is None:
                    header = _unique_header(["" if v is None else str(v).strip() for v in row])
                    continue
                # Progress: openpyxl reads the sheet's XML as a stream; rows are a fair proxy.
                self.position = min(self.size, self.position + 64)
                values = [_cell(v) for v in row]
                if all(v in ("", None) for v in values):
                    continue
                yield Record(number, number, dict(zip(header, values, strict=False)))
            if header is None:
                raise ReaderError(f"{self.path.name}: the first sheet is empty.")
        finally:
            book.close()
            self.position = self.size

    # --- JSON ---------------------------------------------------------------------------------

    def _json(self) -> Iterator[Record]:
        with self.path.open("rb") as handle:
            head = handle.read(4)
            encoding, bom = detect_encoding(head)
            handle.seek(len(bom))
            decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
            yield from _JsonArrayStream(handle, decoder, self).records()

    def _jsonl(self) -> Iterator[Record]:
        with self.path.open("rb") as handle:
            for number, chunk in enumerate(handle, start=1):
                self.position += len(chunk)
                if number == 1 and chunk.startswith(codecs.BOM_UTF8):
                    chunk = chunk[len(codecs.BOM_UTF8) :]
                if not chunk.strip():
                    continue
                if len(chunk) > MAX_RECORD_BYTES:
                    yield Record(number, number, None, "line", "longer than the 4 MB limit")
                    continue
                try:
                    value = json.loads(chunk)
                except UnicodeDecodeError:
                    yield Record(number, number, None, "encoding", "not UTF-8 text")
                    continue
                except ValueError as error:
                    text = chunk.decode("utf-8", errors="replace").strip()
                    yield Record(
                        number, number, None, "json", f"not JSON ({error})", raw={"_line": text}
                    )
                    continue
                if not isinstance(value, dict):
                    yield Record(
                        number,
                        number,
                        None,
                        "json",
                        "not a JSON object",
                        raw={"_value": value},
                    )
                    continue
                yield Record(number, number, value)

    # --- e-mail -------------------------------------------------------------------------------

    def _eml(self) -> Iterator[Record]:
        files = sorted(self.path.glob("*.eml")) if self.path.is_dir() else [self.path]
        for number, path in enumerate(files, start=1):
            size = path.stat().st_size
            where = path.name if self.path.is_dir() else ""
            if size > MAX_RECORD_BYTES * 4:
                self.position += size
                yield Record(number, 1, None, "message", "larger than 16 MB", where=where)
                continue
            with path.open("rb") as handle:
                message = email.message_from_binary_file(handle, policy=email.policy.default)
            self.position += size
            yield _message_record(message, number, 1 if where else number, where)

    def _mbox(self) -> Iterator[Record]:
        with self.path.open("rb") as handle:
            lines: list[bytes] = []
            size, start, too_big = 0, 0, False
            previous_blank = True
            for number, line in enumerate(handle, start=1):
                self.position += len(line)
                if line.startswith(b"From ") and previous_blank:
                    if start:
                        yield _mbox_record(lines, start, too_big)
                    lines, size, start, too_big = [], 0, number, False
                    previous_blank = False
                    continue
                previous_blank = line in (b"\n", b"\r\n")
                if not start:
                    if line.strip():
                        raise ReaderError(
                            f"{self.path.name}: line {number}: not an mbox file (it must "
                            "start with a 'From ' line)."
                        )
                    continue
                size += len(line)
                if size > MAX_RECORD_BYTES * 4:
                    too_big = True
                    lines = []
                elif not too_big:
                    # mboxrd/mboxo quoting: ">From " in a body was "From ".
                    if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                        line = line[1:]
                    lines.append(line)
            if start:
                yield _mbox_record(lines, start, too_big)


def _mbox_record(lines: list[bytes], start: int, too_big: bool) -> Record:
    if too_big:
        return Record(start, start, None, "message", "larger than 16 MB")
    message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
    return _message_record(message, start, start, "")


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def _message_record(message, number: int, line: int, where: str) -> Record:
    """An e-mail as a flat record: message_id, from_email, from_name, to, subject, date,
    in_reply_to and text (the plain body, or the HTML one without its tags)."""
    try:
        sender = message["from"]
        addresses = getattr(sender, "addresses", ()) if sender is not None else ()
        from_email = addresses[0].addr_spec if addresses else ""
        from_name = addresses[0].display_name if addresses else ""
        body = message.get_body(preferencelist=("plain", "html"))
        text = ""
        if body is not None:
            text = body.get_content()
            if body.get_content_type() == "text/html":
                text = html.unescape(_TAGS.sub(" ", text))
        record = {
            "message_id": str(message["message-id"] or "").strip().strip("<>"),
            "from_email": from_email,
            "from_name": from_name,
            "to": str(message["to"] or ""),
            "subject": str(message["subject"] or ""),
            "date": str(message["date"] or ""),
            "in_reply_to": str(message["in-reply-to"] or "").strip().strip("<>"),
            "text": re.sub(r"[ \t]+\n", "\n", re.sub(r"[ \t]{2,}", " ", text)).strip(),
        }
    except (LookupError, ValueError, TypeError, AttributeError) as error:
        return Record(
            number, line, None, "message", f"cannot read this e-mail ({error})", where=where
        )
    return Record(number, line, record, where=where)


class _JsonArrayStream:
    """A JSON array of objects, one element at a time, without reading the file whole.

    Accepts a top-level array, an object whose first array-valued member holds the records
    (`{"reviews": [...]}`, `{"data": [...]}`), or a JavaScript assignment in front of either
    (X's `window.YTD.tweets.part0 = [...]`).
    """

    def __init__(self, handle, decoder, source: Source):
        self.handle, self.decoder, self.source = handle, decoder, source
        self.buffer = ""
        self.offset = 0  # index in buffer
        self.line = 1  # line at buffer[offset]
        self.eof = False
        self.json = json.JSONDecoder()

    def _fill(self, at_least: int = 1) -> bool:
        """Read more text; False at the end of the file."""
        if self.eof:
            return False
        chunk = self.handle.read(max(CHUNK_BYTES, at_least))
        self.source.position = self.handle.tell()
        if not chunk:
            self.eof = True
            self.buffer += self.decoder.decode(b"", final=True)
            return False
        # Drop what was consumed, so the buffer holds at most one record and a chunk.
        self.buffer = self.buffer[self.offset :] + self.decoder.decode(chunk)
        self.offset = 0
        return True

    def _skip_space(self) -> str:
        """The next non-blank character (not consumed); "" at the end of the file."""
        while True:
            while self.offset < len(self.buffer):
                char = self.buffer[self.offset]
                if char in " \t\r\n":
                    if char == "\n":
                        self.line += 1
                    self.offset += 1
                    continue
                return char
            if not self._fill():
                return ""

    def _expect(self, what: str):
        if self._skip_space() != what:
            got = self._skip_space() or "the end of the file"
            raise ReaderError(
                f"{self.source.path.name}: line {self.line}: expected {what!r}, found {got!r}."
            )
        self.offset += 1

    def _value(self):
        """Decode the next JSON value whole (one record, bounded by MAX_RECORD_BYTES)."""
        self._skip_space()
        want = CHUNK_BYTES
        while True:
            try:
                value, end = self.json.raw_decode(self.buffer, self.offset)
                # A number at the buffer's end may continue in the next chunk.
                if end < len(self.buffer) or self.eof:
                    return value, end
            except ValueError as error:
                if self.eof:
                    raise _BadElement(str(error)) from None
                if len(self.buffer) - self.offset > MAX_RECORD_BYTES:
                    raise _BadElement("an element larger than the 4 MB limit") from None
            want *= 2  # grow the read, so a large record is not re-parsed once per chunk
            self._fill(want)

    def _advance(self, end: int):
        self.line += self.buffer.count("\n", self.offset, end)
        self.offset = end

    def _key(self):
        value, end = self._value()
        self._advance(end)
        return value

    def records(self) -> Iterator[Record]:
        name = self.source.path.name
        try:
            first = self._skip_space()
            if first not in "[{":
                # A JavaScript assignment: skip to the first bracket.
                while True:
                    at = self.buffer.find("[", self.offset)
                    if at >= 0:
                        self._advance(at)
                        break
                    if not self._fill():
                        raise ReaderError(f"{name}: no JSON array in the file.")
                first = "["
            if first == "":
                raise ReaderError(f"{name}: the file is empty.")
            if first == "{":
                self._enter_first_array(name)
            else:
                self.offset += 1
            yield from self._elements(name)
        except UnicodeDecodeError as error:
            raise ReaderError(f"{name}: line {self.line}: not UTF-8 text ({error}).") from None

    def _enter_first_array(self, name: str):
        self.offset += 1  # {
        while True:
            char = self._skip_space()
            if char == "}":
                raise ReaderError(f"{name}: the object holds no array of records.")
            try:
                key = self._key()
            except _BadElement as error:
                raise ReaderError(f"{name}: line {self.line}: not JSON ({error}).") from None
            if not isinstance(key, str):
                raise ReaderError(f"{name}: line {self.line}: not JSON (a key must be text).")
            self._expect(":")
            if self._skip_space() == "[":
                self.offset += 1
                return
            try:
                _ignored, end = self._value()
            except _BadElement as error:
                raise ReaderError(f"{name}: line {self.line}: not JSON ({error}).") from None
            self._advance(end)
            if self._skip_space() == ",":
                self.offset += 1

    def _elements(self, name: str) -> Iterator[Record]:
        index = 0
        while True:
            char = self._skip_space()
            if char == "]":
                return
            if char == "":
                raise ReaderError(f"{name}: line {self.line}: the array is not closed.")
            if index and char == ",":
                self.offset += 1
                self._skip_space()
            index += 1
            line = self.line
            try:
                value, end = self._value()
            except _BadElement as error:
                # The rest of the file cannot be trusted after a broken element.
                yield Record(line, line, None, "json", f"not JSON ({error})")
                return
            self._advance(end)
            if not isinstance(value, dict):
                yield Record(line, line, None, "json", "not a JSON object", raw={"_value": value})
                continue
            yield Record(line, line, value)


class _BadElement(Exception):
    pass


def detect_encoding(head: bytes) -> tuple[str, bytes]:
    """The encoding of a file from its first bytes, and the BOM to skip: a BOM decides;
    otherwise UTF-8 if the sample decodes as UTF-8, else Windows-1252 (what spreadsheet
    programs write in western Europe)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return encoding, bom
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if error.start < len(head) - 3:
            return "cp1252", b""
    return "utf-8", b""


def sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    lines = sample.splitlines()
    sample = "\n".join(lines[:50] if len(lines) > 1 else lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _unique_header(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for index, name in enumerate(names, start=1):
        name = (name or "").strip() or f"column_{index}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _cell(value):
    """An XLSX cell as a JSON-able value: dates as ISO text, whole floats as ints."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
