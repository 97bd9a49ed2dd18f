"""`opencx check_openapi`: fail when docs/openapi.json differs from what the code serves.

`--write` rewrites the file instead (that is what `make openapi` runs).
"""

import difflib
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opencx.api.root import api

DEFAULT_PATH = Path(settings.PACKAGE_DIR).parent.parent / "docs" / "openapi.json"


def render_schema() -> str:
    """The live OpenAPI document as committed: sorted keys, two-space indent, final newline."""
    schema = api.get_openapi_schema()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Compare the served OpenAPI document with docs/openapi.json (or --write it)."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="Rewrite the file")
        parser.add_argument("--path", type=Path, default=DEFAULT_PATH, help="The committed file")

    def handle(self, *args, write: bool = False, path: Path = DEFAULT_PATH, **options):
        live = render_schema()
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(live, encoding="utf-8")
            self.stdout.write(f"Wrote {path}.")
            return
        committed = path.read_text(encoding="utf-8") if path.exists() else ""
        if committed == live:
            self.stdout.write(f"{path} matches the API.")
            return
        diff = difflib.unified_diff(
            committed.splitlines(),
            live.splitlines(),
            fromfile=f"{path} (committed)",
            tofile="the API as served",
            lineterm="",
            n=1,
        )
        shown = list(diff)[:40]
        detail = "\n".join(shown)
        reason = "is missing" if not committed else "is out of date with the code"
        raise CommandError(
            f"OpenAPI drift: {path} {reason}. Run `make openapi` to rewrite it and commit "
            f"the result.\n{detail}",
            returncode=1,
        )
