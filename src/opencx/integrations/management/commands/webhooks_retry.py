"""`opencx webhooks_retry`: queue every webhook delivery whose next attempt is due."""

from django.core.management.base import BaseCommand

from opencx.integrations.services import webhook_deliveries_retry_due


class Command(BaseCommand):
    help = "Queue the webhook deliveries that are due for another attempt (safe to run often)."

    def handle(self, *args, **options):
        count = webhook_deliveries_retry_due()
        if count and options["verbosity"] > 0:
            self.stdout.write(f"{count} webhook deliveries queued.")
