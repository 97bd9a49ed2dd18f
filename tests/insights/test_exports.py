import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from opencx.insights.exports import Table, csv_response, safe_cell
from opencx.surveys.services import response_record
from tests.factories import LocationFactory


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Roma", "Roma"),
        (-12.5, -12.5),  # numbers stay numbers
        (None, ""),
        (True, "yes"),
    ],
)
def test_safe_cell_defuses_formulas(value, expected):
    assert safe_cell(value) == expected


def _csv_rows(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def test_csv_response_has_header_type_and_filename():
    table = Table(name="t", title="T", headers=["Name", "Score"], rows=[["=1+2", 3]])
    response = csv_response(table, brand_slug="acme")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="acme-t-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert _csv_rows(response) == [["Name", "Score"], ["'=1+2", "3"]]


@pytest.fixture
def answered(brand, store, make_survey):
    survey, headline, follow_up = make_survey("nps")
    evil = LocationFactory(brand=brand, parent=store.parent, name="=cmd|' /C calc'!A0")
    recent = timezone.now() - timedelta(days=2)
    for location, scores in ((store, [10, 9, 3]), (evil, [7, 8])):
        for score in scores:
            response_record(
                survey=survey,
                location=location,
                answers={headline.pk: score, follow_up.pk: "-bad =comment"},
                language="en",
                created_at=recent,
            )
    return survey


def test_overview_locations_csv_matches_the_page(client, brand, owner, answered, store):
    client.force_login(owner)
    url = reverse("insights:overview", args=[brand.slug])

    response = client.get(url, {"export": "csv", "table": "locations"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{brand.slug}-locations-' in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == ["Location", "Country", "NPS", "95% low", "95% high", "n"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name[store.name][2] == "33.3" and by_name[store.name][5] == "3"
    assert "'=cmd|' /C calc'!A0" in by_name  # the formula-like name is defused


def test_responses_csv_exports_the_filtered_rows(client, brand, owner, answered, store):
    client.force_login(owner)
    url = reverse("insights:responses", args=[brand.slug])

    response = client.get(url, {"export": "csv", "band": "detractor"})

    rows = _csv_rows(response)
    assert rows[0][:4] == ["Answered at", "Survey", "Kind", "Score"]
    assert len(rows) == 2  # one detractor
    assert rows[1][3] == "3" and rows[1][4] == store.name
    assert rows[1][-1] == "'-bad =comment"


def test_xlsx_holds_every_table_of_the_page(client, brand, owner, answered, store):
    client.force_login(owner)
    response = client.get(reverse("insights:overview", args=[brand.slug]), {"export": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert f'filename="{brand.slug}-overview-' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert "NPS change" in book.sheetnames
    sheet = book[next(name for name in book.sheetnames if name.startswith("NPS by location"))]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Location", "Country", "NPS", "95% low", "95% high", "n")
    assert (store.name, "IT", 33.3) in [row[:3] for row in rows[1:]]


def test_xlsx_of_one_table(client, brand, owner, answered):
    client.force_login(owner)
    response = client.get(
        reverse("insights:insights", args=[brand.slug]), {"export": "xlsx", "table": "leaderboard"}
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Location leaderboard"]
    assert f'filename="{brand.slug}-leaderboard-' in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"export": "csv", "table": "nope"}, 404),
        ({"export": "csv"}, 400),  # a CSV holds one table: name it
        ({"export": "pdf", "table": "locations"}, 400),
    ],
)
def test_bad_export_requests(client, brand, owner, params, status):
    client.force_login(owner)
    response = client.get(reverse("insights:overview", args=[brand.slug]), params)
    assert response.status_code == status
