"""Feedback → Import: upload a file, map its columns (with a preview), follow the background
run, fix or discard the rows it quarantined; and the sources that push feedback by webhook.

All of it needs brand-wide reach (others get 404) and MANAGE_FEEDBACK (others get 403).
"""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from opencx.platform.errors import AppError
from opencx.platform.numbers import whole_number
from opencx.platform.selectors import locations_visible_to
from opencx.ui.brand_views import brand_page, page_or_partial

from . import selectors, services
from .mappings import TARGETS, mapping_from_dict
from .models import FeedbackItem, ImportRun, QuarantinedRow
from .ready_mappings import DESCRIPTIONS, READY_MAPPINGS
from .webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_path

PAGE_SIZE = 50


def _run(request, pk: int) -> ImportRun:
    run = selectors.import_run_get(request.actor, pk=pk)
    services.require_importer(request.actor)
    return run


def _url(request, name: str, *args) -> str:
    return reverse(f"feedback:{name}", args=[request.actor.brand.slug, *args])


@brand_page
def import_list(request):
    actor = request.actor
    services.require_importer(actor)
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise AppError("Choose a file to import.", field="file")
            run = services.import_upload_store(actor=actor, upload=upload)
        except AppError as app_error:
            error = app_error
        else:
            return redirect(_url(request, "import", run.pk))
    elif request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "POST"])
    runs = Paginator(selectors.import_runs_visible_to(actor), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "feedback/import_list.html",
        {"runs": runs, "error": error, "ready": DESCRIPTIONS},
        status=error.status if error else 200,
    )


def _mapping_from_post(post, columns) -> dict:
    ready = post.get("ready", "")
    data: dict = {"based_on": ready} if ready in READY_MAPPINGS else {"fields": {}}
    fields = {}
    for target in TARGETS:
        column = post.get(f"map_{target}", "")
        if column:
            if column not in columns:
                raise AppError(f"No column {column!r} in the file.", field=f"map_{target}")
            fields[target] = column
    if fields:
        data["fields"] = fields
    for key in ("source", "kind", "timezone"):
        if post.get(key, "").strip():
            data[key] = post[key].strip()
    if post.get("rating_scale", "").strip():
        scale = whole_number(post["rating_scale"].strip())
        if scale is None:
            raise AppError("The rating scale is a whole number.", field="rating_scale")
        data["rating_scale"] = scale
    if post.get("location", "").strip():
        data["defaults"] = {"location": post["location"].strip()}
    return data


@brand_page
def import_detail(request, pk):
    """A draft: its preview and the mapping form. Otherwise: progress, counts, the report."""
    actor = request.actor
    run = _run(request, pk)
    if run.status == ImportRun.Status.DRAFT:
        return _mapping_page(request, run)
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET"])
    rows = selectors.quarantined_rows_of(actor, run=run)[:20]
    return page_or_partial(
        request,
        "feedback/import_detail.html",
        {"run": run, "rows": rows, "polling": run.status in ("queued", "running")},
        partial="progress",
    )


def _mapping_page(request, run):
    actor = request.actor
    columns, preview = services.import_preview(actor=actor, run=run)
    error = None
    chosen = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            mapping = mapping_from_dict(_mapping_from_post(request.POST, columns))
            run, state = services.import_run_configure(actor=actor, run=run, mapping=mapping)
        except AppError as app_error:
            error = app_error
        else:
            if state == "done":
                messages.info(request, "This file was imported with this mapping before.")
            return redirect(_url(request, "import", run.pk))
    elif request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "POST"])
    table = [[_cell(data, column) for column in columns] for _line, data, _error in preview]
    return render(
        request,
        "feedback/import_mapping.html",
        {
            "run": run,
            "columns": columns,
            "preview": list(zip([line for line, _d, _e in preview], table, strict=True)),
            "targets": [(t, h, chosen.get(f"map_{t}", "")) for t, h in TARGETS.items()],
            "ready": DESCRIPTIONS,
            "kinds": FeedbackItem.Kind.choices,
            "locations": locations_visible_to(actor).only("code", "name"),
            "chosen": chosen,
            "error": error,
        },
        status=error.status if error else 200,
    )


def _cell(data: dict, column: str) -> str:
    value = data
    for part in column.split(".") if column not in data else [column]:
        value = value.get(part) if isinstance(value, dict) else None
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:79] + "…"


@brand_page
def import_retry(request, pk):
    run = _run(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    stored, still_open = services.import_run_retry(actor=request.actor, run=run)
    messages.success(request, f"{stored} rows stored, {still_open} still quarantined.")
    return redirect(_url(request, "import-quarantine", run.pk))


@brand_page
def import_quarantine(request, pk):
    run = _run(request, pk)
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET"])
    status = request.GET.get("status", QuarantinedRow.Status.OPEN)
    status = status if status in QuarantinedRow.Status.values else QuarantinedRow.Status.OPEN
    rows = Paginator(
        selectors.quarantined_rows_of(request.actor, run=run, status=status), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    for row in rows.object_list:
        row.fields = [(key, _as_text(value)) for key, value in row.raw.items()]
    return render(
        request,
        "feedback/import_quarantine.html",
        {"run": run, "rows": rows, "status": status, "statuses": QuarantinedRow.Status.choices},
    )


def _as_text(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def _from_text(text: str, before):
    """An edited value back in the type it had (nested JSON stays JSON)."""
    if isinstance(before, dict | list):
        try:
            return json.loads(text)
        except ValueError:
            raise AppError("Nested values must stay JSON.", field="raw") from None
    return text


@brand_page
def quarantined_row_retry(request, pk):
    actor = request.actor
    row = selectors.quarantined_row_get(actor, pk=pk)
    services.require_importer(actor)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    raw = {key: _from_text(request.POST.get(f"raw_{key}", ""), v) for key, v in row.raw.items()}
    try:
        row = services.quarantined_row_retry(actor=actor, row=row, raw=raw)
    except AppError as error:
        messages.error(request, error.message)
    else:
        if row.status == QuarantinedRow.Status.STORED:
            messages.success(request, f"Line {row.line} is stored.")
        else:
            problems = "; ".join(f"{e['field']}: {e['reason']}" for e in row.errors)
            messages.error(request, f"Line {row.line} still has problems: {problems}")
    return redirect(_url(request, "import-quarantine", row.run_id))


@brand_page
def quarantined_row_discard(request, pk):
    actor = request.actor
    row = selectors.quarantined_row_get(actor, pk=pk)
    services.require_importer(actor)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.quarantined_row_discard(actor=actor, row=row)
    messages.success(request, f"Line {row.line} is discarded.")
    return redirect(_url(request, "import-quarantine", row.run_id))


# --- webhook sources --------------------------------------------------------------------------


@brand_page
def webhook_source_list(request):
    actor = request.actor
    services.require_importer(actor)
    created, error = None, None
    if request.method == "POST":
        ready = request.POST.get("ready", "opencx")
        try:
            created = services.webhook_source_create(
                actor=actor,
                name=request.POST.get("name", ""),
                mapping={"based_on": ready if ready in READY_MAPPINGS else "opencx"},
            )
        except AppError as app_error:
            error = app_error
    elif request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "POST"])
    sources = [
        (source, request.build_absolute_uri(webhook_path(source)))
        for source in selectors.webhook_sources_visible_to(actor)
    ]
    return render(
        request,
        "feedback/webhook_sources.html",
        {
            "sources": sources,
            "created": created,
            "error": error,
            "ready": DESCRIPTIONS,
            "signature_header": SIGNATURE_HEADER,
            "timestamp_header": TIMESTAMP_HEADER,
        },
        status=error.status if error else (201 if created else 200),
    )


@brand_page
def webhook_source_rotate(request, pk):
    actor = request.actor
    source = selectors.webhook_source_get(actor, pk=pk)
    services.require_importer(actor)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    source = services.webhook_source_rotate(actor=actor, source=source)
    messages.success(request, f"New secret for {source.name}: {source.secret}")
    return redirect(_url(request, "webhooks"))


@brand_page
def webhook_source_delete(request, pk):
    actor = request.actor
    source = selectors.webhook_source_get(actor, pk=pk)
    services.require_importer(actor)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.webhook_source_delete(actor=actor, source=source)
    messages.success(request, "Webhook source deleted.")
    return redirect(_url(request, "webhooks"))
