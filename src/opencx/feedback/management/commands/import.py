"""`opencx import`: bring feedback in from a file.

    opencx import --brand SLUG FILE --mapping trustpilot
    opencx import --brand SLUG reviews.csv --map "Kommentar=text" --map "Datum=occurred_at"
    opencx import --brand SLUG FILE --mapping my-mapping.yaml --location milano
    opencx import --brand SLUG --retry RUN_ID
    opencx import --list-mappings

The file is streamed (CSV, XLSX, JSON, JSON lines, .eml or a folder of them, mbox), with a
progress bar on a terminal. Rows that cannot be stored are kept in the run's quarantine and
reported as `file:line: field: reason`; the good rows go in. Re-running the same file adds
nothing; re-running it after the import was killed resumes where it stopped.

Exit status: 0 when every row was stored (or was already there), 2 when some were quarantined,
1 when the import could not run at all.
"""

import sys
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from opencx.feedback import selectors, services
from opencx.feedback.mappings import mapping_from_dict
from opencx.feedback.models import ImportRun
from opencx.feedback.ready_mappings import DESCRIPTIONS, READY_MAPPINGS
from opencx.platform.acting import acting_actor
from opencx.platform.errors import AppError

QUARANTINED = 2


class Command(BaseCommand):
    help = "Import reviews, mentions, tickets, e-mails or chats from a file."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="CSV, XLSX, JSON, JSONL, .eml, folder, mbox")
        parser.add_argument("--brand", help="The brand's slug")
        parser.add_argument("--as", dest="as_email", default="", metavar="EMAIL")
        parser.add_argument(
            "--mapping",
            default="",
            help="A ready mapping's name (see --list-mappings) or a mapping file (YAML/JSON)",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="Map a column to a field (repeat; on top of --mapping)",
        )
        parser.add_argument("--source", default="", help="Source name (google, zendesk...)")
        parser.add_argument("--kind", default="", help="review, mention, ticket, email or chat")
        parser.add_argument("--location", default="", help="Location code for rows without one")
        parser.add_argument("--timezone", default="", help="Zone of dates that name none")
        parser.add_argument(
            "--rating-scale", type=int, default=None, help="Top of the ratings' scale (default 5)"
        )
        parser.add_argument("--format", default="", help="csv, xlsx, json, jsonl, eml or mbox")
        parser.add_argument("--retry", type=int, metavar="RUN_ID", help="Retry a run's quarantine")
        parser.add_argument(
            "--again",
            action="store_true",
            help="Read a file imported before once more (still adds no item twice)",
        )
        parser.add_argument("--list-mappings", action="store_true")
        parser.add_argument(
            "--progress",
            choices=("auto", "always", "never"),
            default="auto",
            help="Progress bar on standard error (auto: on a terminal)",
        )

    def handle(self, *args, **options):
        if options["list_mappings"]:
            for name in sorted(READY_MAPPINGS):
                self.stdout.write(f"{name:12} {DESCRIPTIONS.get(name, '')}")
            return
        if not options["brand"]:
            raise CommandError("Name the brand: --brand SLUG.")
        actor = acting_actor(brand_slug=options["brand"], email=options["as_email"])
        try:
            if options["retry"] is not None:
                self._retry(actor, options["retry"])
                return
            if not options["file"]:
                raise CommandError("Name the file to import.")
            self._import(actor, options)
        except AppError as error:
            where = f" ({error.field})" if error.field and error.field not in error.message else ""
            raise CommandError(f"{error.message}{where}") from None

    def _mapping(self, options):
        name = options["mapping"]
        if name and name in READY_MAPPINGS:
            data = {"based_on": name}
        elif name:
            path = Path(name)
            if not path.is_file():
                raise CommandError(
                    f"{name}: no ready mapping of that name ({', '.join(sorted(READY_MAPPINGS))}) "
                    "and no such mapping file."
                )
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"{name}: cannot read the mapping ({error}).") from None
            except yaml.YAMLError as error:
                raise CommandError(f"{name}: not YAML or JSON ({error}).") from None
        else:
            data = {"fields": {}}
        if not isinstance(data, dict):
            raise CommandError(f"{name}: a mapping is an object with 'fields'.")
        for key in ("source", "kind", "timezone"):
            if options[key]:
                data[key] = options[key]
        if options["rating_scale"] is not None:
            data["rating_scale"] = options["rating_scale"]
        if options["location"]:
            data["defaults"] = {**(data.get("defaults") or {}), "location": options["location"]}
        return mapping_from_dict(data, overrides=options["map"])

    def _import(self, actor, options):
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"{path}: no such file.")
        mapping = self._mapping(options)
        run, state = services.import_run_create(
            actor=actor, path=path, mapping=mapping, fmt=options["format"], again=options["again"]
        )
        name = run.file_name
        if state == "done":
            self.stderr.write(
                f"{name} was imported with this mapping as import {run.pk}: nothing to add "
                "(--again reads it once more)."
            )
            for row in selectors.quarantined_rows_of(actor, run=run):
                for line in _report_lines(name, row):
                    self.stderr.write(line)
            self._summary(run)
            return
        if state == "resumed":
            self.stderr.write(f"Resuming import {run.pk} of {name} after record {run.checkpoint}.")
        show = options["progress"] == "always" or (
            options["progress"] == "auto" and sys.stderr.isatty()
        )
        bar = tqdm(
            total=run.file_size,
            initial=min(run.bytes_done, run.file_size),
            unit="B",
            unit_scale=True,
            desc=name[:30],
            disable=not show,
            file=sys.stderr,
        )

        def progress(done, _size):
            bar.update(max(0, done - bar.n))

        def report(rows):
            with tqdm.external_write_mode(file=sys.stderr):
                for row in rows:
                    for line in _report_lines(name, row):
                        self.stderr.write(line)

        try:
            run = services.import_run_execute(run_id=run.pk, progress=progress, report=report)
        finally:
            bar.close()
        self._summary(run)

    def _summary(self, run: ImportRun):
        self.stdout.write(
            f"Import {run.pk} of {run.file_name}: {run.rows_read} rows read, {run.created} new, "
            f"{run.already_present} already present, {run.near_duplicates} near-duplicates, "
            f"{run.quarantined} quarantined."
        )
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(run.error)
        if run.quarantined:
            self.stdout.write(
                f"Fix them in the app or the file's rows, then: opencx import --brand "
                f"{run.brand.slug} --retry {run.pk}"
            )
            sys.exit(QUARANTINED)

    def _retry(self, actor, run_id):
        run = selectors.import_run_get(actor, pk=run_id)
        stored, still_open = services.import_run_retry(actor=actor, run=run)
        for row in selectors.quarantined_rows_of(actor, run=run):
            for line in _report_lines(run.file_name, row):
                self.stderr.write(line)
        self.stdout.write(f"Import {run.pk}: {stored} rows stored, {still_open} still quarantined.")
        if still_open:
            sys.exit(QUARANTINED)


def _report_lines(name, row) -> list[str]:
    where = f"{name}/{row.where}" if row.where else name
    return [f"{where}:{row.line}: {e['field']}: {e['reason']}" for e in row.errors]
