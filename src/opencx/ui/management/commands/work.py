"""`opencx work`: the background worker — queued tasks, and the periodic jobs.

Runs django-tasks' database worker in batches (invitations to send, ...) and, on their own
schedule, the periodic commands below. `opencx serve` starts one beside the web server unless
told not to (`--no-worker`); a larger installation runs it on its own (systemd, a container).
"""

import os
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

# Command name and how often it runs, in seconds; each is safe to run at any time.
PERIODIC = [
    ("send_reminders", 3600),
    ("escalate_cases", 300),
    ("webhooks_retry", 60),
    ("match_review_completions", 3600),
    ("send_digests", 3600),
    ("evaluate_alerts", 900),
    ("analyse_feedback", 300),
    ("fetch_mail", 60),
    ("wake_snoozed", 60),
    ("check_inbox_sla", 60),
    ("abandon_partial_responses", 300),
]


class Command(BaseCommand):
    help = "Run queued tasks and the periodic jobs (reminders, escalations, webhooks, digests)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between looks at the queue"
        )
        parser.add_argument(
            "--once", action="store_true", help="Run what is queued and due now, then stop"
        )
        parser.add_argument(
            "--parent", type=int, help="Stop when this process (the web server) is gone"
        )

    def handle(self, *args, interval, once, parent, **options):
        next_run = dict.fromkeys((name for name, _ in PERIODIC), 0.0)
        while True:
            call_command("db_worker", "--batch", verbosity=0)
            now = time.monotonic()
            for name, every in PERIODIC:
                if now >= next_run[name]:
                    call_command(name, stdout=self.stdout)
                    next_run[name] = now + every
            if once or (parent is not None and os.getppid() != parent):
                return
            time.sleep(interval)
