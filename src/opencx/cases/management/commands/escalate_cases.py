"""`opencx escalate_cases`: escalate every open case past its due date (once each).

Safe to run as often as you like; the worker (`opencx work`) runs it every few minutes."""

from django.core.management.base import BaseCommand

from opencx.cases.services import cases_escalate_overdue


class Command(BaseCommand):
    help = "Escalate open cases past their due date to the brand's CX manager (once each)."

    def handle(self, *args, **options):
        escalated = cases_escalate_overdue()
        self.stdout.write(f"Escalated {len(escalated)} case{'s' if len(escalated) != 1 else ''}.")
