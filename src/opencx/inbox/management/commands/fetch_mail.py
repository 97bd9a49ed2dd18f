"""`opencx fetch_mail`: read every e-mail inbox's mailbox over IMAP and store new messages.

Safe to run as often as you like (each message is stored once); the worker (`opencx work`)
runs it every minute."""

from django.core.management.base import BaseCommand

from opencx.inbox.flows import mail_fetch


class Command(BaseCommand):
    help = "Read new e-mail from every e-mail inbox (IMAP) into conversations."

    def add_arguments(self, parser):
        parser.add_argument("--inbox", type=int, help="Only this inbox (its id)")

    def handle(self, *args, inbox=None, **options):
        results = mail_fetch(inbox_id=inbox)
        stored = sum(result.stored for result in results.values())
        self.stdout.write(
            f"Read {len(results)} mailbox{'es' if len(results) != 1 else ''}: "
            f"{stored} new message{'s' if stored != 1 else ''}."
        )
        for inbox_id, result in results.items():
            for error in result.errors:
                self.stderr.write(f"Inbox {inbox_id}: {error}")
