"""`opencx evaluate_alerts`: evaluate every active alert rule and raise the alerts that fire.

Safe to run as often as you like (the worker, `opencx work`, runs it every 15 minutes): an
alert is stored once per rule, location, channel and day, and a keyword rule alerts about an
item once, so a second run adds nothing.
"""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from opencx.insights.alerts import alerts_evaluate
from opencx.platform.models import Brand


class Command(BaseCommand):
    help = "Evaluate the alert rules and raise the alerts that fire (each once)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", action="append", help="A brand slug (repeatable)")
        parser.add_argument(
            "--at",
            help="Evaluate as if it were this moment (ISO 8601 with a UTC offset); default: now",
        )

    def handle(self, *args, brand, at, **options):
        brands = None
        if brand:
            brands = list(Brand.objects.filter(slug__in=brand))
            missing = set(brand) - {b.slug for b in brands}
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
        raised = alerts_evaluate(now=now, brands=brands)
        for alert in raised:
            self.stdout.write(f"{alert.brand.slug}: {alert.title}")
        if raised or options["verbosity"] > 1:
            self.stdout.write(f"{len(raised)} alert{'s' if len(raised) != 1 else ''} raised.")
