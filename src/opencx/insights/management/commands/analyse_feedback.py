"""`opencx analyse_feedback`: make sure every stored feedback item gets analysed.

By default it stores survey comments answered before the feedback store took them, and queues
an analysis task for each brand with items waiting (the worker, `opencx work`, runs it every 5
minutes as a safety net: new items queue their own). `--now` analyses here and now instead,
with a progress bar: the way to analyse a big backlog on a machine with a free core.
"""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from opencx.feedback.services import survey_comments_backfill
from opencx.insights import text_analysis
from opencx.platform.models import Brand


class Command(BaseCommand):
    help = "Queue (or, with --now, run) text analytics of stored feedback not analysed yet."

    def add_arguments(self, parser):
        parser.add_argument("--brand", action="append", help="A brand slug (repeatable)")
        parser.add_argument("--now", action="store_true", help="Analyse here, not in the worker")

    def handle(self, *args, brand, now, **options):
        brands = list(Brand.objects.filter(slug__in=brand)) if brand else None
        if brand:
            missing = set(brand) - {b.slug for b in brands}
            if missing:
                raise CommandError(f"--brand: no brand with slug {', '.join(sorted(missing))}.")
        ids = [b.pk for b in brands] if brands else [None]
        stored = sum(survey_comments_backfill(brand_id=brand_id) for brand_id in ids)
        if stored:
            self.stdout.write(f"Stored {stored} survey comments in the feedback store.")
        if not now:
            queued = text_analysis.analyse_all_pending()
            if brands:
                queued = {k: v for k, v in queued.items() if k in ids}
            self.stdout.write(f"Analysis queued for {sum(queued.values())} brand(s).")
            return
        for one in brands or Brand.objects.order_by("pk"):
            settings = text_analysis.text_settings_of(one)
            total = text_analysis.pending_items(settings).count()
            if not total:
                continue
            with tqdm(total=total, desc=one.slug, unit="item", file=sys.stderr) as bar:
                text_analysis.analyse_pending(
                    brand_id=one.pk, seconds=float("inf"), progress=bar.update
                )
            self.stdout.write(f"{one.slug}: analysed {total} items.")
