"""Writes of feedback: imports (streamed, batched, resumable, exactly once), the quarantine of
rows that could not be stored, and items pushed by signed webhooks.

Exactly once: an item is unique on (brand, source, external id); a record without an id gets one
derived from what it says (`mappings.derived_external_id`), so re-reading a file or re-delivering
a webhook finds the items already there and adds nothing. Near-duplicates (the same author saying
the same thing within `NEAR_DUPLICATE_DAYS`) are kept as one and counted.

After each stored item commits, `FEEDBACK_RECEIVED` is emitted with `feedback_id` and
`brand_id`; whatever follows (case rules, text analytics) subscribes to it and runs on its own,
so ingestion never waits for it.
"""

import hashlib
import os
import secrets
import socket
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from opencx.contacts.models import Contact
from opencx.contacts.services import contact_find_or_create_in_brand
from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, Conflict, NotFound
from opencx.platform.events import emit
from opencx.platform.models import Brand, Channel, Location, Touchpoint
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record

from . import readers
from .mappings import (
    FieldError,
    Mapping,
    derived_external_id,
    fingerprint,
    map_record,
    mapping_from_dict,
)
from .models import FeedbackItem, ImportRun, QuarantinedRow, WebhookSource

FEEDBACK_RECEIVED = "feedback.received"
# Emitted by text analytics (insights.text_analysis) once per batch, with the `feedback_ids`
# analysed for the first time: rules on sentiment wait for it.
FEEDBACK_ANALYSED = "feedback.analysed"
BATCH_SIZE = 500
NEAR_DUPLICATE_DAYS = 7
STALE_AFTER = timedelta(minutes=10)  # a run whose worker has been silent this long may resume
_CONTACT_CACHE = 20_000


def require_importer(actor: Actor) -> None:
    """Imports, their quarantine and webhook sources are brand-level: brand-wide reach (else
    404, as if they did not exist) and MANAGE_FEEDBACK (else 403)."""
    if not actor.is_brand_wide:
        raise NotFound("No such import.", field="import")
    actor.require(Capability.MANAGE_FEEDBACK)


# --- turning mapped values into items ---------------------------------------------------------


class Resolver:
    """Looks up a brand's locations, touchpoints, channels and contacts, with small caches
    (one import asks for the same store thousands of times)."""

    def __init__(self, brand: Brand):
        self.brand = brand
        self._locations: dict[str, int] | None = None
        self._touchpoints: dict[str, int] | None = None
        self._channels: dict[str, int] | None = None
        self._contacts: OrderedDict[tuple, int | None] = OrderedDict()

    def _table(self, rows, *keys) -> dict[str, int]:
        table: dict[str, int] = {}
        for row in rows:
            for key in keys:
                value = str(row[key] or "").strip().casefold()
                if value:
                    table.setdefault(value, row["pk"])
        return table

    def location(self, value: str) -> int:
        if self._locations is None:
            rows = Location.objects.filter(brand=self.brand).values("pk", "code", "name")
            self._locations = self._table(rows.order_by("path"), "code", "name")
        found = self._locations.get(value.strip().casefold())
        if found is None:
            raise FieldError("location", f"no location with code or name {value!r}")
        return found

    def touchpoint(self, value: str, *, strict: bool) -> int | None:
        if self._touchpoints is None:
            rows = Touchpoint.objects.filter(brand=self.brand).values("pk", "key", "name")
            self._touchpoints = self._table(rows, "key", "name")
        found = self._touchpoints.get(value.strip().casefold())
        if found is None and strict:
            raise FieldError("touchpoint", f"no touchpoint with key or name {value!r}")
        return found

    def channel(self, value: str) -> int | None:
        """A channel by kind or name; none is not an error (exports name channels freely)."""
        if self._channels is None:
            rows = Channel.objects.filter(brand=self.brand).order_by("-location", "pk")
            self._channels = self._table(rows.values("pk", "kind", "name"), "kind", "name")
        return self._channels.get(value.strip().casefold())

    def contact(self, values: dict, *, actor_user) -> int | None:
        email, phone, handle = values.get("email"), values.get("phone"), values.get("handle")
        key = (email, phone, handle)
        if key in self._contacts:
            self._contacts.move_to_end(key)
            return self._contacts[key]
        contact_id = None
        if email or phone:
            contact, _created = contact_find_or_create_in_brand(
                brand=self.brand,
                actor_user=actor_user,
                email=email or "",
                phone=phone or "",
                name=values.get("author", ""),
                language=values.get("language", ""),
            )
            contact_id = contact.pk
        elif handle:
            contact_id = _contact_by_handle(self.brand, handle, values.get("channel_kind", ""))
        self._contacts[key] = contact_id
        if len(self._contacts) > _CONTACT_CACHE:
            self._contacts.popitem(last=False)
        return contact_id

    def forget_contacts(self) -> None:
        """After a rolled-back batch, cached contact ids may name rows that no longer exist."""
        self._contacts.clear()

    def resolve(self, mapping: Mapping, values: dict) -> list[dict]:
        """Turn looked-up names into ids in `values`; the errors, as [{field, reason}]."""
        errors = []
        defaulted = set(mapping.defaults) - set(mapping.fields)
        try:
            if values.get("location"):
                values["location_id"] = self.location(values["location"])
        except FieldError as error:
            errors.append({"field": error.field, "reason": error.reason})
        try:
            if values.get("touchpoint"):
                values["touchpoint_id"] = self.touchpoint(
                    values["touchpoint"], strict="touchpoint" not in defaulted
                )
        except FieldError as error:
            errors.append({"field": error.field, "reason": error.reason})
        if values.get("channel"):
            values["channel_id"] = self.channel(values["channel"])
            values["channel_kind"] = values["channel"].strip().casefold()
        return errors


def _contact_by_handle(brand: Brand, handle: str, network: str) -> int | None:
    """An existing contact known by this social handle (a handle alone makes no contact)."""
    networks = ["x", "facebook", "instagram"]
    kinds = [network] if network in networks else networks
    return (
        Contact.objects.filter(
            brand=brand, identities__kind__in=kinds, identities__value__iexact=handle
        )
        .values_list("pk", flat=True)
        .first()
    )


@dataclass
class Entry:
    """One record on its way in: its values, and once stored what became of it."""

    values: dict
    number: int = 0
    outcome: str = ""  # created | present | near_duplicate
    item_id: int | None = None
    external_id: str = ""
    fingerprint: str = ""


@dataclass
class StoreResult:
    created: list[int] = field(default_factory=list)
    already_present: int = 0
    near_duplicates: int = 0


def _store(
    *, brand: Brand, source: str, entries: list[Entry], run: ImportRun | None, resolver, actor_user
) -> StoreResult:
    """Store entries exactly once. Call inside a transaction; emits FEEDBACK_RECEIVED per new
    item (handlers run after the commit)."""
    result = StoreResult()
    for entry in entries:
        values = entry.values
        entry.external_id = values.get("external_id") or derived_external_id(source, values)
        entry.fingerprint = fingerprint(values)
    present = dict(
        FeedbackItem.objects.filter(
            brand=brand, source=source, external_id__in={e.external_id for e in entries}
        ).values_list("external_id", "pk")
    )
    fingerprints = {e.fingerprint for e in entries if e.fingerprint}
    window = timedelta(days=NEAR_DUPLICATE_DAYS)
    seen: dict[str, list] = {}
    for fp, moment, pk in FeedbackItem.objects.filter(
        brand=brand, fingerprint__in=fingerprints
    ).values_list("fingerprint", "occurred_at", "pk"):
        seen.setdefault(fp, []).append((moment, pk))
    fresh: list[Entry] = []
    batch_ids: dict[str, Entry] = {}
    for entry in entries:
        if entry.external_id in present:
            entry.outcome, entry.item_id = "present", present[entry.external_id]
            continue
        if entry.external_id in batch_ids:  # the same id twice in one batch
            entry.outcome = "present"
            continue
        moment = entry.values["occurred_at"]
        match = next(
            (pk for when, pk in seen.get(entry.fingerprint, ()) if abs(when - moment) <= window),
            False,
        )
        if match is not False:
            entry.outcome, entry.item_id = "near_duplicate", match
            continue
        batch_ids[entry.external_id] = entry
        if entry.fingerprint:
            seen.setdefault(entry.fingerprint, []).append((moment, None))
        fresh.append(entry)
    items = []
    for entry in fresh:
        values = entry.values
        rated = values.get("rating") is not None
        items.append(
            FeedbackItem(
                brand=brand,
                location_id=values.get("location_id"),
                touchpoint_id=values.get("touchpoint_id"),
                channel_id=values.get("channel_id"),
                contact_id=resolver.contact(values, actor_user=actor_user),
                kind=values.get("kind") or FeedbackItem.Kind.REVIEW,
                source=source,
                external_id=entry.external_id,
                author=values.get("author") or values.get("handle") or "",
                rating=values.get("rating"),
                rating_scale=values.get("rating_scale") if rated else None,
                title=values.get("title", ""),
                text=values.get("text", ""),
                language=values.get("language", ""),
                url=values.get("url", ""),
                occurred_at=values["occurred_at"],
                fingerprint=entry.fingerprint,
                import_run=run,
            )
        )
    try:
        with transaction.atomic():
            FeedbackItem.objects.bulk_create(items)
        stored = list(zip(fresh, items, strict=True))
    except IntegrityError:
        # Someone stored some of these at the same moment: go one by one, theirs stand.
        stored = []
        for entry, item in zip(fresh, items, strict=True):
            item.pk = None
            try:
                with transaction.atomic():
                    item.save(force_insert=True)
                stored.append((entry, item))
            except IntegrityError:
                entry.outcome = "present"
                entry.item_id = (
                    FeedbackItem.objects.filter(
                        brand=brand, source=source, external_id=entry.external_id
                    )
                    .values_list("pk", flat=True)
                    .first()
                )
    for entry, item in stored:
        entry.outcome, entry.item_id = "created", item.pk
        result.created.append(item.pk)
        emit(FEEDBACK_RECEIVED, feedback_id=item.pk, brand_id=brand.pk)
    for entry in entries:
        if entry.outcome == "present":
            result.already_present += 1
        elif entry.outcome == "near_duplicate":
            result.near_duplicates += 1
    return result


# --- imports ----------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(run: ImportRun) -> bool:
    """Whether the run's worker may still be at it (then it must not be resumed twice)."""
    if run.status != ImportRun.Status.RUNNING or not run.worker:
        return False
    if run.heartbeat_at and timezone.now() - run.heartbeat_at > STALE_AFTER:
        return False
    host, _sep, pid = run.worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: trust the heartbeat
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def import_run_create(
    *,
    actor: Actor,
    path: Path,
    mapping: Mapping,
    file_name: str = "",
    fmt: str = "",
    sha256: str = "",
    again: bool = False,
) -> tuple[ImportRun, str]:
    """The run that imports this file with this mapping, and what it is:

    - "done": this file was imported with this mapping before (nothing to add; unless `again`),
    - "resumed": an unfinished run of it whose worker is gone, to resume where it stopped,
    - "new": a new run.

    The file is read where it lies. The format and the mapping's default location are checked
    before anything is stored."""
    require_importer(actor)
    path = Path(path)
    try:
        detected = readers.detect_format(path, fmt)
    except readers.ReaderError as error:
        raise AppError(str(error), field="format") from None
    if not path.exists():
        raise AppError(f"{path}: no such file.", field="file")
    if mapping.defaults.get("location"):
        try:
            Resolver(actor.brand).location(str(mapping.defaults["location"]))
        except FieldError as error:
            raise AppError(error.reason, field="location") from None
    sha256 = sha256 or (file_sha256(path) if path.is_file() else "")
    mapping_data = mapping.as_dict()
    earlier = (
        ImportRun.objects.filter(
            brand=actor.brand, sha256=sha256, format=detected, file_size=path.stat().st_size
        )
        .exclude(status=ImportRun.Status.DRAFT)
        .order_by("-pk")
    )
    for run in earlier if sha256 else ():
        if run.mapping != mapping_data:
            continue
        if run.status == ImportRun.Status.DONE:
            if again:
                continue
            return run, "done"
        if _alive(run):
            raise Conflict(
                f"Import {run.pk} of this file is running ({run.worker}); wait for it.",
                field="file",
            )
        run.file_path = str(path.resolve())
        run.save(update_fields=["file_path"])
        return run, "resumed"
    run = ImportRun.objects.create(
        brand=actor.brand,
        created_by=actor.user,
        file_name=(file_name or path.name)[:255],
        file_path=str(path.resolve()),
        file_size=readers.Source(path, detected).size,
        sha256=sha256,
        format=detected,
        mapping=mapping_data,
        source=mapping.source,
    )
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="feedback.import",
        obj=run,
        summary=f"{run.file_name} ({mapping.name})",
    )
    return run, "new"


Progress = Callable[[int, int], None]
Report = Callable[[list[QuarantinedRow]], None]


def import_run_execute(
    *, run_id: int, progress: Progress | None = None, report: Report | None = None
) -> ImportRun:
    """Read the run's file and store its records in batches, each batch committed with the
    run's counts and checkpoint. Resumes after the checkpoint; a finished run is left alone.
    `progress(bytes_read, size)` and `report(quarantined_rows)` are called per batch."""
    run = ImportRun.objects.select_related("brand", "created_by").get(pk=run_id)
    if run.status in (ImportRun.Status.DONE, ImportRun.Status.DRAFT):
        return run  # finished, or not yet given a mapping
    now = timezone.now()
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.RUNNING,
        worker=_worker_id(),
        heartbeat_at=now,
        started_at=run.started_at or now,
        error="",
    )
    run.refresh_from_db()
    mapping = mapping_from_dict(run.mapping)
    resolver = Resolver(run.brand)
    brand_timezone = run.brand.timezone or "UTC"
    good: list[Entry] = []
    bad: list[QuarantinedRow] = []
    last = run.checkpoint
    source = None

    def commit():
        nonlocal good, bad
        if not good and not bad and last == run.checkpoint:
            return
        _commit_batch(run, resolver, mapping, good, bad, last, source.position if source else 0)
        if report and bad:
            report(bad)
        if progress and source:
            progress(source.position, source.size)
        good, bad = [], []

    try:
        source = readers.Source(Path(run.file_path), run.format)
        for record in source.records():
            if record.number <= run.checkpoint:
                continue
            last = record.number
            entry_or_row = _read_record(run, mapping, resolver, record, brand_timezone)
            if isinstance(entry_or_row, Entry):
                good.append(entry_or_row)
            else:
                bad.append(entry_or_row)
            if len(good) + len(bad) >= BATCH_SIZE:
                commit()
        commit()
    except (readers.ReaderError, OSError) as error:
        commit()
        return _finish(run, ImportRun.Status.FAILED, str(error))
    except BaseException as error:
        _finish(run, ImportRun.Status.FAILED, f"Stopped: {error!r}")
        raise
    return _finish(run, ImportRun.Status.DONE, "")


def _read_record(run, mapping, resolver, record, brand_timezone) -> Entry | QuarantinedRow:
    if record.data is None:
        errors = [{"field": record.error_field, "reason": record.error}]
        raw = record.raw
    else:
        mapped = map_record(mapping, record.data, default_timezone=brand_timezone)
        errors = mapped.errors + (resolver.resolve(mapping, mapped.values) if mapped.ok else [])
        raw = record.data
        if not errors:
            return Entry(values=mapped.values, number=record.number)
    return QuarantinedRow(
        brand_id=run.brand_id,
        run=run,
        number=record.number,
        line=record.line,
        where=record.where[:255],
        raw=_jsonable(raw),
        errors=errors,
    )


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _commit_batch(run, resolver, mapping, good, bad, last, position):
    try:
        with transaction.atomic():
            result = _store(
                brand=run.brand,
                source=mapping.source,
                entries=good,
                run=run,
                resolver=resolver,
                actor_user=run.created_by,
            )
            if bad:
                QuarantinedRow.objects.bulk_create(bad, ignore_conflicts=True)
            ImportRun.objects.filter(pk=run.pk).update(
                checkpoint=last,
                bytes_done=position,
                rows_read=F("rows_read") + len(good) + len(bad),
                created=F("created") + len(result.created),
                already_present=F("already_present") + result.already_present,
                near_duplicates=F("near_duplicates") + result.near_duplicates,
                quarantined=F("quarantined") + len(bad),
                heartbeat_at=timezone.now(),
            )
    except BaseException:
        resolver.forget_contacts()
        raise
    run.checkpoint = last


def _finish(run: ImportRun, status: str, error: str) -> ImportRun:
    ImportRun.objects.filter(pk=run.pk).update(
        status=status,
        error=error[:2000],
        finished_at=timezone.now(),
        worker="",
        bytes_done=run.file_size if status == ImportRun.Status.DONE else F("bytes_done"),
    )
    run.refresh_from_db()
    if status == ImportRun.Status.DONE:
        audit_record(
            actor_user=run.created_by,
            brand=run.brand,
            action="feedback.import.done",
            obj=run,
            summary=(
                f"{run.created} new, {run.already_present} already present, "
                f"{run.near_duplicates} near-duplicates, {run.quarantined} quarantined"
            ),
        )
    return run


UPLOAD_CHUNK = 1024 * 1024


def uploads_dir() -> Path:
    return Path(settings.DATA_DIR) / "imports"


def import_upload_store(*, actor: Actor, upload) -> ImportRun:
    """Keep an uploaded file under the data folder (copied in chunks, never whole in memory)
    as a draft run, to be mapped; its format comes from its name."""
    require_importer(actor)
    name = Path(upload.name or "upload").name[:200] or "upload"
    try:
        fmt = readers.detect_format(Path(name))
    except readers.ReaderError as error:
        raise AppError(str(error), field="file") from None
    folder = uploads_dir() / secrets.token_hex(8)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        for chunk in upload.chunks(UPLOAD_CHUNK):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    if not size:
        path.unlink()
        folder.rmdir()
        raise AppError("The file is empty.", field="file")
    run = ImportRun.objects.create(
        brand=actor.brand,
        created_by=actor.user,
        file_name=name,
        file_path=str(path),
        file_size=size,
        sha256=digest.hexdigest(),
        format=fmt,
        status=ImportRun.Status.DRAFT,
    )
    audit_record(
        actor_user=actor.user, brand=actor.brand, action="feedback.upload", obj=run, summary=name
    )
    return run


def import_preview(*, actor: Actor, run: ImportRun, rows: int = 20) -> tuple[list[str], list]:
    """The columns and first `rows` records of an uploaded file, for the mapping screen."""
    require_importer(actor)
    columns: dict[str, None] = {}
    records = []
    try:
        for record in readers.Source(Path(run.file_path), run.format).records():
            data = record.data if record.data is not None else record.raw
            for key in _flat_keys(data):
                columns.setdefault(key, None)
            records.append((record.line, data, record.error))
            if len(records) >= rows:
                break
    except (readers.ReaderError, OSError) as error:
        raise AppError(str(error), field="file") from None
    return list(columns), records


def _flat_keys(data: dict, prefix: str = "", depth: int = 0):
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 3:
            yield from _flat_keys(value, f"{name}.", depth + 1)
        else:
            yield name


def import_run_configure(
    *, actor: Actor, run: ImportRun, mapping: Mapping
) -> tuple[ImportRun, str]:
    """Give an uploaded draft its mapping and queue it ("new"); or, when this file was already
    imported with this mapping, drop the draft and answer that run ("done")."""
    require_importer(actor)
    if run.status != ImportRun.Status.DRAFT:
        raise Conflict("This import is already under way.", field="import")
    if mapping.defaults.get("location"):
        try:
            Resolver(actor.brand).location(str(mapping.defaults["location"]))
        except FieldError as error:
            raise AppError(error.reason, field="location") from None
    mapping_data = mapping.as_dict()
    earlier = ImportRun.objects.filter(
        brand=actor.brand,
        sha256=run.sha256,
        format=run.format,
        status=ImportRun.Status.DONE,
    ).order_by("-pk")
    for done in earlier:
        if done.mapping == mapping_data:
            _drop_upload(run)
            return done, "done"
    run.mapping, run.source, run.status = mapping_data, mapping.source, ImportRun.Status.QUEUED
    run.save(update_fields=["mapping", "source", "status"])
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="feedback.import",
        obj=run,
        summary=f"{run.file_name} ({mapping.name})",
    )
    from .tasks import run_import

    run_id = run.pk
    transaction.on_commit(lambda: run_import.enqueue(run_id))
    return run, "new"


def _drop_upload(run: ImportRun) -> None:
    path = Path(run.file_path)
    if path.is_relative_to(uploads_dir()):
        path.unlink(missing_ok=True)
        if not any(path.parent.iterdir()):
            path.parent.rmdir()
    run.delete()


# --- quarantine -------------------------------------------------------------------------------


def quarantined_row_retry(
    *, actor: Actor, row: QuarantinedRow, raw: dict | None = None
) -> QuarantinedRow:
    """Read the row again (with `raw` as edited, if given) with its run's mapping: stored, or
    still open with the new errors."""
    require_importer(actor)
    if row.brand_id != actor.brand.pk:
        raise NotFound("No such row.", field="row")
    if row.status != QuarantinedRow.Status.OPEN:
        raise Conflict(f"This row is already {row.get_status_display().lower()}.", field="row")
    if raw is not None:
        if not isinstance(raw, dict):
            raise AppError("The row's values are an object.", field="raw")
        row.raw = _jsonable(raw)
    run = row.run
    mapping = mapping_from_dict(run.mapping)
    resolver = Resolver(actor.brand)
    with transaction.atomic():
        # Two people retrying the same row at once: the second finds it no longer open.
        still_open = QuarantinedRow.objects.select_for_update().filter(
            pk=row.pk, status=QuarantinedRow.Status.OPEN
        )
        if not still_open.exists():
            raise Conflict("This row was stored or discarded meanwhile.", field="row")
        mapped = map_record(mapping, row.raw, default_timezone=actor.brand.timezone or "UTC")
        errors = mapped.errors + (resolver.resolve(mapping, mapped.values) if mapped.ok else [])
        row.updated_at = timezone.now()
        if errors:
            row.errors = errors
            row.save(update_fields=["raw", "errors", "updated_at"])
            return row
        entry = Entry(values=mapped.values, number=row.number)
        result = _store(
            brand=actor.brand,
            source=mapping.source,
            entries=[entry],
            run=run,
            resolver=resolver,
            actor_user=actor.user,
        )
        row.status, row.item_id, row.errors = QuarantinedRow.Status.STORED, entry.item_id, []
        row.save(update_fields=["raw", "errors", "status", "item", "updated_at"])
        ImportRun.objects.filter(pk=run.pk).update(
            quarantined=F("quarantined") - 1,
            created=F("created") + len(result.created),
            already_present=F("already_present") + result.already_present,
            near_duplicates=F("near_duplicates") + result.near_duplicates,
        )
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="feedback.quarantine.store",
            obj=row,
            summary=f"{run.file_name}:{row.line}",
        )
    return row


def import_run_retry(*, actor: Actor, run: ImportRun) -> tuple[int, int]:
    """Retry every open row of the run as it stands; (stored, still open)."""
    require_importer(actor)
    stored = still_open = 0
    for row in run.quarantine.filter(status=QuarantinedRow.Status.OPEN).order_by("number"):
        row = quarantined_row_retry(actor=actor, row=row)
        if row.status == QuarantinedRow.Status.STORED:
            stored += 1
        else:
            still_open += 1
    return stored, still_open


def quarantined_row_discard(*, actor: Actor, row: QuarantinedRow) -> QuarantinedRow:
    require_importer(actor)
    if row.brand_id != actor.brand.pk:
        raise NotFound("No such row.", field="row")
    if row.status != QuarantinedRow.Status.OPEN:
        raise Conflict(f"This row is already {row.get_status_display().lower()}.", field="row")
    with transaction.atomic():
        row.status, row.updated_at = QuarantinedRow.Status.DISCARDED, timezone.now()
        row.save(update_fields=["status", "updated_at"])
        ImportRun.objects.filter(pk=row.run_id).update(quarantined=F("quarantined") - 1)
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="feedback.quarantine.discard",
            obj=row,
            summary=f"{row.run.file_name}:{row.line}",
        )
    return row


# --- webhooks ---------------------------------------------------------------------------------

MAX_WEBHOOK_ITEMS = 1000


def webhook_source_create(*, actor: Actor, name: str, mapping: dict | None = None) -> WebhookSource:
    """A new push source with its own key (in its address) and secret (signs its bodies)."""
    require_importer(actor)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise AppError("Name the source (up to 120 characters).", field="name")
    checked = mapping_from_dict(mapping or {"based_on": "opencx"})
    source = WebhookSource.objects.create(
        brand=actor.brand,
        name=name,
        key=secrets.token_urlsafe(18),
        secret=secrets.token_urlsafe(32),
        mapping=checked.as_dict(),
    )
    audit_record(
        actor_user=actor.user, brand=actor.brand, action="feedback.webhook.create", obj=source
    )
    return source


def webhook_source_rotate(*, actor: Actor, source: WebhookSource) -> WebhookSource:
    require_importer(actor)
    source.secret = secrets.token_urlsafe(32)
    source.save(update_fields=["secret"])
    audit_record(
        actor_user=actor.user, brand=actor.brand, action="feedback.webhook.rotate", obj=source
    )
    return source


def webhook_source_delete(*, actor: Actor, source: WebhookSource) -> None:
    require_importer(actor)
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="feedback.webhook.delete",
        obj=source,
        summary=source.name,
    )
    source.delete()


@dataclass
class Delivery:
    created: list[int]
    already_present: int
    near_duplicates: int


def webhook_receive(*, source: WebhookSource, records: list) -> Delivery:
    """Store the items of one delivery, all or none: the first bad item is an AppError naming
    it (`items[2].rating`) and nothing is stored. Re-delivery adds nothing."""
    if not isinstance(records, list) or not records:
        raise AppError("Send one item (an object) or a list of them.", field="items")
    if len(records) > MAX_WEBHOOK_ITEMS:
        raise AppError(f"At most {MAX_WEBHOOK_ITEMS} items per delivery.", field="items")
    brand = source.brand
    mapping = mapping_from_dict(source.mapping)
    resolver = Resolver(brand)
    entries = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise AppError(f"items[{index}]: not an object.", field=f"items[{index}]")
        mapped = map_record(mapping, record, default_timezone=brand.timezone or "UTC")
        errors = mapped.errors + (resolver.resolve(mapping, mapped.values) if mapped.ok else [])
        if errors:
            first = errors[0]
            where = f"items[{index}].{first['field']}"
            raise AppError(f"{where}: {first['reason']}.", field=where)
        entries.append(Entry(values=mapped.values, number=index))
    with transaction.atomic():
        result = _store(
            brand=brand,
            source=mapping.source,
            entries=entries,
            run=None,
            resolver=resolver,
            actor_user=None,
        )
        WebhookSource.objects.filter(pk=source.pk).update(
            received=F("received") + len(result.created), last_received_at=timezone.now()
        )
    return Delivery(result.created, result.already_present, result.near_duplicates)


# --- survey comments --------------------------------------------------------------------------


def _survey_item(response) -> FeedbackItem:
    return FeedbackItem(
        brand_id=response.brand_id,
        location_id=response.location_id,
        touchpoint_id=response.touchpoint_id,
        channel_id=response.channel_id,
        contact_id=response.contact_id,
        response=response,
        kind=FeedbackItem.Kind.SURVEY,
        source="survey",
        external_id=f"response-{response.pk}",
        author=response.contact.name if response.contact else "",
        text=response.comment,
        language=response.language,
        occurred_at=response.completed_at or response.created_at,
    )


def feedback_from_response(*, response_id: int) -> FeedbackItem | None:
    """Put a completed response's comment into the feedback store (once), so that it is analysed
    and explored beside reviews and tickets. Its scores stay with the survey. None when the
    response has no comment (or is gone). Emits nothing: case rules already saw the response."""
    from opencx.surveys.models import Response

    response = (
        Response.objects.filter(pk=response_id, is_partial=False).select_related("contact").first()
    )
    if response is None or not response.comment.strip():
        return None
    item = FeedbackItem.objects.filter(response=response).first()
    if item is not None:
        return item
    item = _survey_item(response)
    try:
        with transaction.atomic():
            item.save(force_insert=True)
    except IntegrityError:  # stored at the same moment by another worker
        return FeedbackItem.objects.filter(response=response).first()
    return item


def survey_comments_backfill(*, brand_id: int | None = None, chunk: int = 1000) -> int:
    """Store the comments of completed responses that are not in the feedback store yet (those
    answered before it took survey comments, or loaded in bulk). Returns how many it stored."""
    from opencx.surveys.models import Response

    missing = (
        Response.objects.filter(is_partial=False, feedback_item__isnull=True)
        .exclude(comment="")
        .select_related("contact")
        .order_by("pk")
    )
    if brand_id is not None:
        missing = missing.filter(brand_id=brand_id)
    stored = 0
    while batch := list(missing[:chunk]):
        items = [_survey_item(response) for response in batch if response.comment.strip()]
        with transaction.atomic():
            FeedbackItem.objects.bulk_create(items, ignore_conflicts=True)
        stored += len(items)
        missing = missing.filter(pk__gt=batch[-1].pk)
    return stored
