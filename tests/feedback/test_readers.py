import codecs
import json

import pytest
from openpyxl import Workbook

from opencx.feedback.readers import ReaderError, Source, detect_encoding

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def records(path, fmt=""):
    return list(Source(path, fmt).records())


def test_csv_rows_carry_the_line_they_start_on_and_broken_rows_their_reason():
    got = records(FIXTURES / "reviews_broken.csv")
    by_line = {r.line: r for r in got}
    assert by_line[2].data["author"] == "Giulia Rossi"
    # A quoted field across two lines: the row starts on line 9, the next on line 11.
    assert by_line[9].data["text"] == "Cold food, rude waiter.\nNever again."
    assert by_line[11].data is None
    assert (by_line[11].error_field, by_line[11].error) == (
        "row",
        "3 fields where the header has 8",
    )
    assert by_line[11].raw["author"] == "Only Two Fields"
    assert [r.number for r in got] == sorted(r.number for r in got)


def test_csv_with_bom_semicolons_and_windows_1252(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(codecs.BOM_UTF8 + "id;text\n1;Très bien\n".encode())
    (row,) = records(path)
    assert row.data == {"id": "1", "text": "Très bien"}
    path.write_bytes("id;text\n1;Très bien\n2;déçu\n".encode("cp1252"))
    assert [r.data["text"] for r in records(path)] == ["Très bien", "déçu"]
    path.write_bytes(codecs.BOM_UTF16_LE + "id\ttext\n1\tΚαλό\n".encode("utf-16-le"))
    assert records(path)[0].data == {"id": "1", "text": "Καλό"}


def test_a_line_that_is_not_utf8_in_a_utf8_file_is_reported_not_guessed(tmp_path):
    path = tmp_path / "a.csv"
    body = "id,text\n" + "".join(f"{n},ok é\n" for n in range(10_000))
    path.write_bytes(body.encode() + b"10001,caf\xe9\n10002,fine\n")
    got = records(path)
    assert got[-2].data is None and got[-2].error_field == "encoding"
    assert got[-1].data == {"id": "10002", "text": "fine"}


def test_encoding_detection_keeps_utf8_cut_in_the_middle_of_a_character():
    assert detect_encoding("é".encode()[:1]) == ("utf-8", b"")
    assert detect_encoding(b"caf\xe9 au lait") == ("cp1252", b"")


def test_an_empty_csv_is_an_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"")
    with pytest.raises(ReaderError, match="empty"):
        records(path)


def test_xlsx_rows_in_read_only_mode(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "date", "stars", "text"])
    sheet.append([1, __import__("datetime").datetime(2025, 3, 1, 10, 0), 4.0, "Buono"])
    sheet.append([None, None, None, None])
    sheet.append([2, "2025-03-02", 5, "Ottimo"])
    path = tmp_path / "a.xlsx"
    book.save(path)
    got = records(path)
    assert [r.line for r in got] == [2, 4]
    assert got[0].data == {"id": 1, "date": "2025-03-01T10:00:00", "stars": 4, "text": "Buono"}


def test_json_array_nested_array_and_javascript_assignment():
    google = records(FIXTURES / "google_reviews.json")
    assert [r.data["reviewId"] for r in google] == ["AbFvOqk1", "AbFvOqk2", "AbFvOqk3", "AbFvOqk4"]
    assert google[0].line == 3
    tweets = records(FIXTURES / "x_tweets.js")
    assert tweets[1].data["tweet"]["lang"] == "pt"


def test_json_streams_records_bigger_than_one_chunk(tmp_path):
    path = tmp_path / "big.json"
    items = [{"id": n, "text": "x" * 700_000} for n in range(3)]
    path.write_text(json.dumps(items))
    assert [r.data["id"] for r in records(path)] == [0, 1, 2]


def test_json_broken_element_is_reported_with_its_line(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[\n{"id": 1},\n{"id": 2,,}\n]')
    got = records(path)
    assert got[0].data == {"id": 1}
    assert (got[1].line, got[1].error_field) == (3, "json")


def test_jsonl_bad_lines_are_reported_and_the_rest_read():
    got = records(FIXTURES / "chats.jsonl")
    assert [r.data is not None for r in got] == [True, True, True, False]
    assert got[3].line == 4 and got[3].error_field == "json"


def test_eml_file_folder_and_mbox():
    (one,) = records(FIXTURES / "mail" / "complaint.eml")
    assert one.data["from_email"] == "francois@example.test"
    assert one.data["subject"] == "Problème de facturation"
    folder = records(FIXTURES / "mail")
    assert [r.where for r in folder] == ["complaint.eml", "praise.eml"]
    assert folder[1].data["text"] == "Спасибо за быструю доставку!"
    mbox = records(FIXTURES / "support.mbox")
    assert [r.line for r in mbox] == [1, 12, 22]
    assert "From now on" in mbox[0].data["text"]  # mboxrd quoting undone
    assert mbox[2].data["date"] == ""


def test_not_an_mbox(tmp_path):
    path = tmp_path / "a.mbox"
    path.write_text("hello\n")
    with pytest.raises(ReaderError, match="not an mbox"):
        records(path)


def test_progress_reaches_the_file_size():
    source = Source(FIXTURES / "trustpilot.csv")
    list(source.records())
    assert source.position == source.size
