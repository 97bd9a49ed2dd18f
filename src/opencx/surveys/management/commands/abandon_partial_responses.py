"""`opencx abandon_partial_responses`: mark the partial survey responses nobody added to for
SURVEY_ABANDON_MINUTES as abandoned, so the case rules act on their scores. Safe to run as often
as you like (`opencx work` runs it every five minutes): each response is marked once."""

from django.core.management.base import BaseCommand

from opencx.surveys.services import responses_abandon_stale


class Command(BaseCommand):
    help = "Mark abandoned partial survey responses, so the case rules act on their scores."

    def handle(self, *args, **options):
        marked = responses_abandon_stale()
        self.stdout.write(f"Marked {marked} abandoned response{'s' if marked != 1 else ''}.")
