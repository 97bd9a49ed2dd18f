"""API routes for unsolicited feedback: reviews, mentions, tickets, e-mails, chats."""

import json

from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from opencx.api.auth import requiring
from opencx.api.errors import READ_ERRORS, WRITE_ERRORS, Error
from opencx.api.pagination import LimitOffset, paginate
from opencx.insights.text_analysis import shown_text, text_settings_of
from opencx.platform.api import actor_of
from opencx.platform.errors import AppError
from opencx.platform.roles import Capability
from opencx.platform.selectors import location_get

from . import selectors, services, webhooks
from .mappings import mapping_from_dict
from .schemas import (
    DeliveryOut,
    FeedbackItemOut,
    FeedbackKind,
    FeedbackSentiment,
    ImportRunOut,
    QuarantinedRowOut,
    QuarantineRetryIn,
    RetryOut,
    WebhookSourceCreatedOut,
    WebhookSourceIn,
    WebhookSourceOut,
)
from .webhooks import webhook_path

router = Router(tags=["feedback"])


@router.get("/brands/{slug}/feedback-items", response={200: list[FeedbackItemOut], **READ_ERRORS})
@paginate(LimitOffset)
def feedback_item_list(
    request,
    slug: str,
    kind: FeedbackKind | None = None,
    source: str = "",
    location: int | None = None,
    language: str = "",
    sentiment: FeedbackSentiment | None = None,
    topic: str = "",
):
    """Feedback in the caller's reach, newest first; `location` keeps that subtree, `topic` a
    topic id of the brand's taxonomy. Texts come redacted where the brand hides personal data."""
    actor = actor_of(request, slug)
    within = location_get(actor, pk=location) if location is not None else None
    items = selectors.feedback_list(
        actor,
        location=None,
        within=within,
        kind=kind.value if kind else "",
        source=source,
        language=language.strip()[:8],
        sentiment=sentiment.value if sentiment else "",
        topic=topic.strip()[:64],
    ).prefetch_related("topic_rows")
    return RedactedItems(items, text_settings_of(actor.brand))


class RedactedItems:
    """The list as the paginator slices it, each item's texts shown as the brand allows."""

    def __init__(self, items, settings):
        self.items, self.settings = items, settings

    def __len__(self) -> int:
        return self.items.count()

    def __getitem__(self, window: slice) -> list:
        page = list(self.items[window])
        for item in page:
            item.topics = sorted(row.topic for row in item.topic_rows.all())
            for field in ("author", "title", "text"):
                setattr(item, field, shown_text(self.settings, getattr(item, field)))
            item.keyphrases = [shown_text(self.settings, p) for p in item.keyphrases or []]
        return page


# --- imports and their quarantine (brand-wide reach, else 404; MANAGE_FEEDBACK, else 403) -----

IMPORTS = requiring(Capability.MANAGE_FEEDBACK)


def _importer(request, slug):
    actor = actor_of(request, slug)
    services.require_importer(actor)
    return actor


@router.get("/brands/{slug}/feedback-imports", response={200: list[ImportRunOut], **READ_ERRORS})
@paginate(LimitOffset)
def import_run_list(request, slug: str):
    """Imports, newest first, with their counts and progress."""
    return selectors.import_runs_visible_to(_importer(request, slug))


@router.post(
    "/brands/{slug}/feedback-imports",
    response={201: ImportRunOut, 200: ImportRunOut, **WRITE_ERRORS},
    auth=IMPORTS,
)
def import_run_upload(request, slug: str, file: File[UploadedFile], mapping: Form[str]):
    """Upload a file and import it in the background with `mapping`: a ready mapping's name
    or a mapping as JSON. 201 with the queued run; 200 with the earlier run when this file was
    imported with this mapping before (nothing to add)."""
    actor = _importer(request, slug)
    data = mapping.strip()
    if data.startswith("{"):
        try:
            spec = json.loads(data)
        except ValueError as error:
            raise AppError(f"The mapping is not JSON ({error}).", field="mapping") from None
    else:
        spec = {"based_on": data}
    checked = mapping_from_dict(spec)
    draft = services.import_upload_store(actor=actor, upload=file)
    run, state = services.import_run_configure(actor=actor, run=draft, mapping=checked)
    return Status(200 if state == "done" else 201, run)


@router.get("/brands/{slug}/feedback-imports/{run_id}", response={200: ImportRunOut, **READ_ERRORS})
def import_run_get(request, slug: str, run_id: int):
    actor = actor_of(request, slug)
    run = selectors.import_run_get(actor, pk=run_id)
    services.require_importer(actor)
    return run


@router.get(
    "/brands/{slug}/feedback-imports/{run_id}/quarantine",
    response={200: list[QuarantinedRowOut], **READ_ERRORS},
)
@paginate(LimitOffset)
def import_run_quarantine(request, slug: str, run_id: int, status: str = "open"):
    """The run's quarantined rows (`status`: open, stored, discarded, or "" for all), each with
    its line, its raw values and [{field, reason}]."""
    actor = actor_of(request, slug)
    run = selectors.import_run_get(actor, pk=run_id)
    services.require_importer(actor)
    return selectors.quarantined_rows_of(actor, run=run, status=status)


@router.post(
    "/brands/{slug}/feedback-imports/{run_id}/retry",
    response={200: RetryOut, **WRITE_ERRORS},
    auth=IMPORTS,
)
def import_run_retry(request, slug: str, run_id: int):
    """Read every open row of the run again (after fixing the cause, e.g. adding a location)."""
    actor = actor_of(request, slug)
    run = selectors.import_run_get(actor, pk=run_id)
    stored, still_open = services.import_run_retry(actor=actor, run=run)
    return {"stored": stored, "still_open": still_open}


@router.post(
    "/brands/{slug}/feedback-quarantine/{row_id}/retry",
    response={200: QuarantinedRowOut, **WRITE_ERRORS},
    auth=IMPORTS,
)
def quarantined_row_retry(request, slug: str, row_id: int, payload: QuarantineRetryIn):
    """Read the row again, with `raw` as corrected if given: `status` says whether it went in,
    `errors` what still keeps it out."""
    actor = actor_of(request, slug)
    row = selectors.quarantined_row_get(actor, pk=row_id)
    return services.quarantined_row_retry(actor=actor, row=row, raw=payload.raw)


@router.post(
    "/brands/{slug}/feedback-quarantine/{row_id}/discard",
    response={200: QuarantinedRowOut, **WRITE_ERRORS},
    auth=IMPORTS,
)
def quarantined_row_discard(request, slug: str, row_id: int):
    actor = actor_of(request, slug)
    row = selectors.quarantined_row_get(actor, pk=row_id)
    return services.quarantined_row_discard(actor=actor, row=row)


# --- webhook sources, and the signed endpoint they push to -------------------------------------


def _source_out(request, source, *, secret=False) -> dict:
    out = {
        "id": source.pk,
        "name": source.name,
        "key": source.key,
        "url": request.build_absolute_uri(webhook_path(source)),
        "mapping": source.mapping,
        "is_active": source.is_active,
        "received": source.received,
        "last_received_at": source.last_received_at,
        "created_at": source.created_at,
    }
    if secret:
        out["secret"] = source.secret
    return out


@router.get(
    "/brands/{slug}/feedback-webhooks", response={200: list[WebhookSourceOut], **READ_ERRORS}
)
def webhook_source_list(request, slug: str):
    """Systems that push feedback (secrets are not listed)."""
    actor = _importer(request, slug)
    return [_source_out(request, s) for s in selectors.webhook_sources_visible_to(actor)]


@router.post(
    "/brands/{slug}/feedback-webhooks",
    response={201: WebhookSourceCreatedOut, **WRITE_ERRORS},
    auth=IMPORTS,
)
def webhook_source_create(request, slug: str, payload: WebhookSourceIn):
    """Add a push source. The answer carries its address and signing secret (shown once);
    `mapping` reads its items (default: OpenCX's own field names)."""
    actor = _importer(request, slug)
    source = services.webhook_source_create(actor=actor, name=payload.name, mapping=payload.mapping)
    return Status(201, _source_out(request, source, secret=True))


@router.post(
    "/brands/{slug}/feedback-webhooks/{source_id}/rotate-secret",
    response={200: WebhookSourceCreatedOut, **WRITE_ERRORS},
    auth=IMPORTS,
)
def webhook_source_rotate(request, slug: str, source_id: int):
    actor = actor_of(request, slug)
    source = selectors.webhook_source_get(actor, pk=source_id)
    source = services.webhook_source_rotate(actor=actor, source=source)
    return _source_out(request, source, secret=True)


@router.delete(
    "/brands/{slug}/feedback-webhooks/{source_id}",
    response={204: None, **WRITE_ERRORS},
    auth=IMPORTS,
)
def webhook_source_delete(request, slug: str, source_id: int):
    actor = actor_of(request, slug)
    source = selectors.webhook_source_get(actor, pk=source_id)
    services.webhook_source_delete(actor=actor, source=source)
    return Status(204, None)


@router.post(
    "/feedback/webhooks/{key}",
    response={200: DeliveryOut, 400: Error, 401: Error, 404: Error, 413: Error, 429: Error},
    auth=None,
    tags=["feedback webhooks"],
    url_name="feedback-webhook",
)
def feedback_webhook(request, key: str):
    """Push feedback: one item (an object) or a list of them, read with the source's mapping.

    Sign each request: `X-OpenCX-Timestamp: <unix seconds>` and `X-OpenCX-Signature:
    sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; a signature older than five
    minutes is refused. At most 1 MB. All items are stored or none (400 names the first bad
    field, `items[2].rating`); delivering the same items again adds nothing.
    """
    return webhooks.receive(request, key)
