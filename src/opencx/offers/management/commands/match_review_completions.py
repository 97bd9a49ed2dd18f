"""`opencx match_review_completions`: mark completed the promoters' review invitations whose
review has arrived (a review from the same contact, imported into feedback, after the click).

Safe to run as often as you like (after each review import, or hourly from the worker's
schedule). `--enqueue` hands the work to the task worker instead.
"""

from django.core.management.base import BaseCommand

from opencx.offers.services import review_completions_match
from opencx.offers.tasks import match_review_completions


class Command(BaseCommand):
    help = "Mark review invitations completed when the customer's review has been imported."

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue a task for the worker instead"
        )

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = match_review_completions.enqueue()
            self.stdout.write(f"Queued task {result.id}.")
            return
        marked = review_completions_match()
        self.stdout.write(f"Marked {marked} review{'s' if marked != 1 else ''} completed.")
