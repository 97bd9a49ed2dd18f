"""`opencx check_inbox_sla`: mark the inbox's service-level targets that fell due unmet.

Each missed target is marked once, written to the reporting table and e-mailed to the people
concerned. Safe to run as often as you like; the worker (`opencx work`) runs it every minute."""

from django.core.management.base import BaseCommand

from opencx.inbox.sla import conversations_check_sla


class Command(BaseCommand):
    help = "Mark missed service levels of conversations and tell the people concerned."

    def handle(self, *args, **options):
        found = conversations_check_sla()
        self.stdout.write(f"Marked {len(found)} missed target{'s' if len(found) != 1 else ''}.")
