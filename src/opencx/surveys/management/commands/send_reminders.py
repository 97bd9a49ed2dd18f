"""`opencx send_reminders`: send the one reminder of every unanswered invitation that is due.

Due: sent at least the survey's `reminder_days` ago, not answered, not reminded yet, and the
contact has not opted out. Safe to run as often as you like (from cron, say hourly): each
invitation gets one reminder at most. `--enqueue` hands the work to the task worker instead.
"""

from django.core.management.base import BaseCommand

from opencx.surveys.flows import reminders_send
from opencx.surveys.tasks import send_reminders


class Command(BaseCommand):
    help = "Send the reminder of every unanswered survey invitation that is due (once each)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue a task for the worker instead"
        )

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = send_reminders.enqueue()
            self.stdout.write(f"Queued task {result.id}.")
            return
        sent = reminders_send()
        self.stdout.write(f"Sent {sent} reminder{'s' if sent != 1 else ''}.")
