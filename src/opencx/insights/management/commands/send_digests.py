"""`opencx send_digests`: e-mail the daily and weekly digests that are due (once each).

Safe to run as often as you like; the worker (`opencx work`) runs it every hour. A digest is
due from 07:00 in the brand's time zone on the day after its period (the Monday, for weekly).
`--dry-run` builds the digests and prints who would get what, sending and recording nothing.
"""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from opencx.insights.digests import FREQUENCIES, digests_send
from opencx.platform.models import Brand


class Command(BaseCommand):
    help = "E-mail the daily and weekly digests that are due (each member gets each one once)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", action="append", help="A brand slug (repeatable)")
        parser.add_argument(
            "--frequency", choices=[str(value) for value in FREQUENCIES], help="Only these"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print who would get what; send nothing"
        )
        parser.add_argument(
            "--at",
            help="Act as if it were this moment (ISO 8601 with a UTC offset); default: now",
        )

    def handle(self, *args, brand, frequency, dry_run, at, **options):
        brands = Brand.objects.order_by("slug")
        if brand:
            brands = brands.filter(slug__in=brand)
            missing = set(brand) - set(brands.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No brand with slug {', '.join(sorted(missing))}.")
        now = timezone.now()
        if at:
            try:
                now = datetime.fromisoformat(at)
            except ValueError as error:
                raise CommandError(f"--at: not an ISO 8601 moment: {at!r}.") from error
            if timezone.is_naive(now):
                raise CommandError("--at needs a UTC offset, e.g. 2025-03-10T08:00+01:00.")
        outcomes = digests_send(
            now=now,
            brands=list(brands),
            frequencies=(frequency,) if frequency else FREQUENCIES,
            dry_run=dry_run,
        )
        verbose = dry_run or options["verbosity"] > 1
        for outcome in outcomes:
            if verbose or outcome.status in {"sent", "failed"}:
                self.stdout.write(outcome.describe())
        counts = dict.fromkeys(("sent", "would_send", "empty", "failed"), 0)
        for outcome in outcomes:
            if outcome.status in counts:
                counts[outcome.status] += 1
        if dry_run:
            self.stdout.write(
                f"Dry run: {counts['would_send']} digest{'s' if counts['would_send'] != 1 else ''}"
                f" would be sent, {counts['empty']} without activity would not; nothing sent."
            )
        else:
            self.stdout.write(
                f"Sent {counts['sent']} digest{'s' if counts['sent'] != 1 else ''}"
                f" ({counts['empty']} without activity not sent, {counts['failed']} failed)."
            )
