"""`opencx wake_snoozed`: open every snoozed conversation whose snooze has run out.

Safe to run as often as you like; the worker (`opencx work`) runs it every minute."""

from django.core.management.base import BaseCommand

from opencx.inbox.services import conversations_wake_snoozed


class Command(BaseCommand):
    help = "Open snoozed conversations whose time has come."

    def handle(self, *args, **options):
        woken = conversations_wake_snoozed()
        self.stdout.write(f"Woke {len(woken)} conversation{'s' if len(woken) != 1 else ''}.")
