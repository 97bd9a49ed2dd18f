"""`opencx rebuild_rollups [SLUG ...]`: recompute the dashboards' rollups from the raw answers.

Run it after loading responses around the write path (SQL imports, restores). Without slugs,
every brand is rebuilt.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from opencx.insights.services import rollups_rebuild
from opencx.platform.models import Brand


class Command(BaseCommand):
    help = "Recompute the rollups behind the dashboards from the raw answers."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Brand slugs (default: every brand)")

    def handle(self, *args, **options):
        brands = Brand.objects.order_by("slug")
        if options["slugs"]:
            brands = brands.filter(slug__in=options["slugs"])
            missing = set(options["slugs"]) - set(brands.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No brand with slug {', '.join(sorted(missing))}.")
        for brand in brands:
            started = time.perf_counter()
            rows = rollups_rebuild(brand=brand)
            seconds = time.perf_counter() - started
            self.stdout.write(f"{brand.slug}: {rows} rollup rows in {seconds:.1f} s")
