"""`opencx demo`: build the demo brand "Bottega Aurora" with 18 months of customer life.

Deterministic from --seed (same seed, same data apart from ids). `make run` calls it with
--if-empty after `migrate`. See docs/demo.md for what is in it and the effects planted there.
"""

import sys
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from opencx.demo import catalogue
from opencx.demo.build import build_demo, delete_demo, demo_brand, logins
from opencx.demo.world import DemoConfig
from opencx.platform.models import Brand

URL = "http://127.0.0.1:8000"
DEFAULTS = DemoConfig()


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Load the multilingual demo brand (Bottega Aurora) with 18 months of data."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="Random seed (7)")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any brand exists already"
        )
        parser.add_argument(
            "--replace", action="store_true", help="Delete the demo brand first if it exists"
        )
        sizes = parser.add_argument_group("sizes")
        for name, text in [
            ("contacts", "customers"),
            ("responses", "survey responses (e.g. 1000000 for benchmarks)"),
            ("sessions", "web sessions on the online shop"),
            ("reviews", "Google and Trustpilot reviews"),
            ("mentions", "social media mentions"),
            ("conversations", "support conversations"),
        ]:
            default = getattr(DEFAULTS, name)
            sizes.add_argument(
                f"--{name}", type=_positive, default=default, help=f"Number of {text} ({default})"
            )
        parser.add_argument(
            "--end-date",
            type=date.fromisoformat,
            default=None,
            help="Pretend today is this day, YYYY-MM-DD (default: today)",
        )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        if options["if_empty"] and Brand.objects.exists():
            self.stdout.write("A brand exists already: the demo data was not loaded (--if-empty).")
            self._logins(existing=demo_brand() is not None)
            return
        existing = demo_brand()
        if existing is not None:
            if not options["replace"]:
                raise CommandError(
                    f"The demo brand {existing.name!r} (/b/{existing.slug}/) exists already. "
                    "Run `opencx demo --replace` to delete and rebuild it."
                )
            if verbosity:
                self.stdout.write(f"Deleting the demo brand {existing.name!r}…")
            delete_demo(existing)

        config = DemoConfig(
            seed=options["seed"],
            end=options["end_date"],
            contacts=options["contacts"],
            responses=options["responses"],
            sessions=options["sessions"],
            reviews=options["reviews"],
            mentions=options["mentions"],
            conversations=options["conversations"],
        )
        if verbosity:
            self.stdout.write(
                f"Building the demo brand {catalogue.BRAND['name']!r} (seed {config.seed})…"
            )

        def on_step(name: str, rows: int, seconds: float) -> None:
            if verbosity:
                self.stdout.write(f"  {name:<14} {rows:>10,}  {seconds:6.1f} s")

        def bar(total: int):
            return tqdm(
                total=total,
                desc="  responses",
                unit=" rows",
                unit_scale=True,
                leave=False,
                file=sys.stderr,
                disable=verbosity == 0 or None,
            )

        with transaction.atomic():
            result = build_demo(config, on_step=on_step, response_bar=bar)
        if verbosity:
            self.stdout.write(f"Done in {result.seconds:.1f} s.")
        self._logins(existing=True)

    def _logins(self, *, existing: bool) -> None:
        if not existing:
            return
        slug = catalogue.BRAND["slug"]
        lines = [
            "",
            "─" * 68,
            f"OpenCX demo: {catalogue.BRAND['name']} — open {URL}",
            f"  brand page:  {URL}/b/{slug}/",
            f"  password for every login below: {settings.OPENCX_DEMO_PASSWORD}",
            "",
        ]
        lines += [f"  {email:<34} {role:<18} {reach}" for email, role, reach in logins()]
        lines += ["─" * 68, ""]
        self.stdout.write("\n".join(lines))
