"""`opencx serve [--port N]`: serve the app with gunicorn (threads), static files by WhiteNoise."""

import atexit
import os
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication

from opencx.config.wsgi import application


def _shorter_gil_turns(server, worker) -> None:
    # A thread holding a database row lock must get the GIL back quickly to commit; with the
    # default 5 ms turns, writers of a busy row queue behind other threads' Python work.
    sys.setswitchinterval(0.0005)


class _Server(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return application


class Command(BaseCommand):
    help = "Serve OpenCX over HTTP."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("OPENCX_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", 2)))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", 8)))
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start `opencx work` (queued tasks, reminders) beside the web server",
        )

    def handle(self, *args, host, port, workers, threads, no_worker, **options):
        self.stdout.write(f"OpenCX serving on http://{host}:{port} (debug={settings.DEBUG})")
        if not no_worker:
            # The embedded default: one machine, one command. The worker stops with the server.
            worker = subprocess.Popen(
                [sys.executable, "-m", "opencx.cli", "work", "--parent", str(os.getpid())]
            )
            atexit.register(worker.terminate)
        _Server(
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "accesslog": "-",
                "timeout": 120,
                "post_fork": _shorter_gil_turns,
            }
        ).run()
