"""CSV and XLSX downloads of the tables shown on the Insights pages.

Every table on a page is a `Table` built once in the view; the page renders it and
`?export=csv|xlsx&table=<name>` downloads the same rows. An XLSX without `table` holds every
table of the page, one sheet each. Cells that a spreadsheet would read as a formula
(starting with = + - @, or a tab / carriage return) are prefixed with a quote.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from opencx.platform.errors import AppError, NotFound

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_MAX_ROWS = 1_000_000  # Excel's sheet limit is 1,048,576 rows


@dataclass(frozen=True)
class Table:
    """A table as shown and as exported: a name for links and file names, a title, the header
    row and the data rows (numbers stay numbers; None is an empty cell)."""

    name: str
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence] = field(default_factory=list)


def safe_cell(value):
    """A cell value that no spreadsheet will run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value.tzinfo else value
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def requested_format(request) -> str | None:
    value = request.GET.get("export", "")
    if not value:
        return None
    if value not in FORMATS:
        raise AppError(f"Unknown export format {value!r}: use csv or xlsx.", field="export")
    return value


def filename(brand_slug: str, name: str, extension: str) -> str:
    stamp = timezone.localdate().isoformat()
    base = re.sub(r"[^a-z0-9-]+", "-", slugify(f"{brand_slug}-{name}")).strip("-")
    return f"{base}-{stamp}.{extension}"


def _disposition(name: str) -> str:
    return f'attachment; filename="{name}"'


class _Echo:
    def write(self, value):
        return value


def csv_response(table: Table, *, brand_slug: str) -> StreamingHttpResponse:
    """UTF-8 with a byte-order mark (so Excel reads the accents and Cyrillic), streamed."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow([safe_cell(h) for h in table.headers])
        for row in table.rows:
            yield writer.writerow([safe_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _disposition(filename(brand_slug, table.name, "csv"))
    return response


def xlsx_response(tables: Sequence[Table], *, brand_slug: str, name: str) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(title=_sheet_title(table.title, used))
        header = []
        for title in table.headers:
            cell = _write_only_cell(sheet, safe_cell(title))
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for count, row in enumerate(table.rows):
            if count >= XLSX_MAX_ROWS:
                break
            sheet.append([safe_cell(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = _disposition(filename(brand_slug, name, "xlsx"))
    return response


def _write_only_cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    return WriteOnlyCell(sheet, value=value)


def _sheet_title(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:28] or "Sheet"
    candidate, number = base, 2
    while candidate.lower() in used:
        candidate, number = f"{base[:25]} {number}", number + 1
    used.add(candidate.lower())
    return candidate


def export_response(request, tables: Sequence[Table], *, page_name: str):
    """The download asked for by `?export=`, or None when the page itself is wanted."""
    fmt = requested_format(request)
    if fmt is None:
        return None
    brand_slug = request.actor.brand.slug
    wanted = request.GET.get("table", "")
    by_name = {table.name: table for table in tables}
    if wanted:
        if wanted not in by_name:
            raise NotFound(f"No table {wanted!r} on this page.", field="table")
        chosen = [by_name[wanted]]
    elif fmt == "xlsx" or len(tables) == 1:
        chosen = list(tables)
    else:
        raise AppError("Name the table to export as CSV (?table=…).", field="table")
    if fmt == "csv":
        return csv_response(chosen[0], brand_slug=brand_slug)
    name = chosen[0].name if wanted else page_name
    return xlsx_response(chosen, brand_slug=brand_slug, name=name)
