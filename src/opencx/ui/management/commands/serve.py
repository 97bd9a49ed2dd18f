"""`opencx serve [--port N]`: serve the app with gunicorn (threads), static files by WhiteNoise."""

import atexit
import gc
import os
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from gunicorn.app.base import BaseApplication

from opencx.config.wsgi import application


def _shorter_gil_turns(server, worker) -> None:
    # A thread holding a database row lock must get the GIL back quickly to commit; with the
    # default 5 ms turns, writers of a busy row queue behind other threads' Python work.
    sys.setswitchinterval(0.0005)


def _freeze_what_is_loaded() -> None:
    """Load what the first requests would (every URL module and view), then move every object
    alive now out of the garbage collector's reach (gc.freeze) before the workers fork.

    A full collection walks every tracked object: ~230,000 once Django and the app are loaded,
    ~140 ms on this kind of machine, during which no thread of the worker runs; under load that
    was the p99 of a survey answer. Frozen objects are never walked again (they live as long
    as the process anyway), and the forked workers do not touch, and so do not copy, their
    pages."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    gc.collect()
    gc.freeze()


def leave_threads_for_people(threads: int) -> str:
    """Keep inbound messages (platform/lanes.py: INBOUND_LANES stored at once per worker,
    INBOUND_WAITING waiting) from holding every thread of a worker: shorten the waiting line
    to fit `threads` (the forked workers inherit the setting) and say so; refuse when the lanes
    alone would fill the threads."""
    lanes, waiting = settings.INBOUND_LANES, settings.INBOUND_WAITING
    if threads <= lanes:
        raise CommandError(
            f"--threads / WEB_THREADS is {threads}, but INBOUND_LANES is {lanes}: inbound "
            f"messages could hold every thread, leaving none for people's pages. Give more "
            f"threads or fewer lanes."
        )
    fits = threads - lanes - 1
    if waiting <= fits:
        return ""
    settings.INBOUND_WAITING = fits
    return (
        f"INBOUND_WAITING lowered from {waiting} to {fits}, so that inbound messages leave "
        f"a thread of the {threads} for people's pages."
    )


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
        # Threads wait on the database, and inbound messages wait for their lane (INBOUND_WAITING
        # of them at most): enough that people's pages always find one free.
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", 16)))
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start `opencx work` (queued tasks, reminders) beside the web server",
        )

    def handle(self, *args, host, port, workers, threads, no_worker, **options):
        if note := leave_threads_for_people(threads):
            self.stdout.write(note)
        self.stdout.write(f"OpenCX serving on http://{host}:{port} (debug={settings.DEBUG})")
        if not no_worker:
            # The embedded default: one machine, one command. The worker stops with the server.
            worker = subprocess.Popen(
                [sys.executable, "-m", "opencx.cli", "work", "--parent", str(os.getpid())]
            )
            atexit.register(worker.terminate)
        _freeze_what_is_loaded()
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
