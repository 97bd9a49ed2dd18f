"""Agents working the inbox queue while customers' messages pour in through the API channel,
on PostgreSQL.

    .venv/bin/python bench/inbox_load.py                 # 50 agents, 100 messages/s, 30 s
    .venv/bin/python bench/inbox_load.py --seconds 10 --agents 20 --rate 50

A scratch database (DATABASE_URL, default postgres://postgres:postgres@127.0.0.1:5432/
opencx_bench_inbox; dropped and created again) is migrated and given one brand, one store, its
owner, --agents agents (each with a logged-in session), an API inbox and --backlog conversations
already in the queue, then ANALYZEd (a database in service has its statistics). `opencx serve`
(gunicorn, DEBUG off, its default 2 workers of 16 threads) listens on a free loopback port, as
bench/survey_load.py starts it.

Customers' messages are POSTed to `/api/v1/inbox-api/conversations` on a fixed schedule of
--rate per second (open loop; latency counted from the planned send time), each with a unique
id, from a pool of customers (so many join their open conversation). A 503 (every inbound
lane of the worker busy, platform/lanes.py) is sent again after its Retry-After, as the
providers do (messages_retried). They flow for --warmup
seconds first, not measured, while a browser loads the queue and a conversation on fresh
connections a few times (a server in service has opened its database connections and compiled
its templates); then the agents arrive, at random moments over --ramp seconds (10: five a
second, a whole shift signing in at once), and for --seconds
every agent works as the queue page in a browser does (`static/inbox/live.js`), on its own
keep-alive connection: it loads the queue, polls the queue's live state (`live/`: tab counts
and the rows' fingerprint) every poll_ms the server asks for (3 s), fetches the list fragment
when the rows' fingerprint changed (new conversations join the end of a queue sorted by
longest waiting, so the first page seldom changes), and now and then (exponential think time,
mean --think s) opens a conversation and goes back to the whole queue page. The queue view's
latency is every queue load, whole page or fragment, the agents' first loads included.
`--closed-loop` is the stress variant: every agent reloads the whole page as soon as the last
load answered, with no think time: it measures saturation (50 agents each asking again the
moment they get an answer), not people at work. Afterwards the database is counted: every
message sent, warm-up included, must be stored exactly once (by provider id). `--trace FILE`
writes every request's start (seconds from the agents' arrival), kind and milliseconds.

Output: JSON lines; a setup line, a line with the CPU the web server and PostgreSQL used (cores,
and milliseconds per message: with --agents 0, a message's own cost), the polls and the
conversation loads, then the
headline line with queue_p50_ms, queue_p95_ms, queue_p99_ms, queue_loads, messages_sent,
messages_acknowledged, messages_stored, messages_duplicated, message_p95_ms, errors and the
target (queue p95 < 300 ms, none lost or duplicated).
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from survey_load import (  # noqa: E402  (the same server handling as the survey bench)
    HOST,
    Closed,
    _free_port,
    _process_cpu,
    _read_response,
    _stop,
    _wait_healthy,
    client_gc_paused,
    emit,
    loop_lag_max_ms,
)

DEFAULT_URL = "postgres://postgres:postgres@127.0.0.1:5432/opencx_bench_inbox"
TARGET_QUEUE_P95_MS = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="Load time")
    parser.add_argument("--agents", type=int, default=50, help="Agents reloading the queue")
    parser.add_argument("--rate", type=float, default=100.0, help="Inbound messages per second")
    parser.add_argument("--senders", type=int, default=16, help="Connections sending messages")
    parser.add_argument("--customers", type=int, default=2000, help="Distinct customers writing")
    parser.add_argument("--backlog", type=int, default=2000, help="Conversations already queued")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn worker processes (opencx serve's default)"
    )
    parser.add_argument(
        "--threads", type=int, default=16, help="Threads per worker (opencx serve's default)"
    )
    parser.add_argument(
        "--think", type=float, default=20.0, help="Mean seconds between opening conversations"
    )
    parser.add_argument(
        "--closed-loop",
        action="store_true",
        help="Stress instead: every agent reloads the whole queue page as soon as it answered",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=5.0,
        help="Seconds of messages (and a few page loads) before the agents arrive, not measured",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=10.0,
        help="Seconds over which the agents arrive (each opens the queue at a random moment)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--trace", help="Write every request's start (s into the run), kind and ms to this file"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    parts = urllib.parse.urlsplit(url)
    database = parts.path.lstrip("/")
    server_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    _admin(server_url, f'DROP DATABASE IF EXISTS "{database}"')
    _admin(server_url, f'CREATE DATABASE "{database}"')
    scratch = tempfile.mkdtemp(prefix="ocx-bench-inbox-")
    os.environ.update(
        {
            "OPENCX_DATA_DIR": scratch,
            "DJANGO_SETTINGS_MODULE": "opencx.config.settings",
            "DEBUG": "false",
            "ALLOWED_HOSTS": HOST,
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": url,
        }
    )
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        world = _world(args)
        with connections["default"].cursor() as cursor:
            # A database in service has statistics (autovacuum's ANALYZE, which may be off
            # where this runs): plans for the backlog just bulk-loaded, not for empty tables.
            cursor.execute("ANALYZE")
        connections.close_all()
        emit(
            step="setup",
            seconds=round(time.perf_counter() - started, 2),
            agents=args.agents,
            backlog=args.backlog,
            workers=args.workers,
            threads=args.threads,
        )
        port = _free_port()
        log = open(os.path.join(scratch, "server.log"), "w")  # noqa: SIM115
        server = subprocess.Popen(
            [
                sys.executable, "-m", "opencx.cli", "serve", "--host", HOST, "--port", str(port),
                "--workers", str(args.workers), "--threads", str(args.threads), "--no-worker",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
            start_new_session=True,
        )  # fmt: skip
        _wait_healthy(port, server, log.name)
        cpu_before, began = _process_cpu(server.pid, database), time.perf_counter()
        client_before = time.process_time()
        with client_gc_paused():
            figures = asyncio.run(_drive(args, port, world))
        cpu_after, elapsed = _process_cpu(server.pid, database), time.perf_counter() - began
        client_cores = (time.process_time() - client_before) / elapsed
        _stop(server)
        server = None
        stored, duplicated = _count(world, figures["sent_ids"])
        if args.trace:
            with open(args.trace, "w") as trace:
                for began, kind, ms in sorted(figures["trace"]):
                    trace.write(f"{began:.4f} {kind} {ms:.1f}\n")
        queue = sorted(figures["queue"])
        posts = sorted(figures["posts"])
        sent = len(figures["sent_ids"])
        p95 = _percentile(queue, 95)
        polls = sorted(figures["poll"])
        opened = sorted(figures["conversation"])
        busy = None
        if cpu_before is not None and cpu_after is not None:
            busy = [after - before for before, after in zip(cpu_before, cpu_after, strict=True)]
        emit(
            agents="closed loop" if args.closed_loop else "live page",
            # CPU of the web server's processes and of PostgreSQL's backends for this database,
            # in cores over the run, and per message sent (agents' requests included: run with
            # --agents 0 for a message's own cost).
            server_cpu_cores=round(busy[0] / elapsed, 2) if busy else None,
            database_cpu_cores=round(busy[1] / elapsed, 2) if busy else None,
            # The load itself (this process: the customers and the agents' browsers) runs on
            # the same machine and takes its share of the CPU.
            client_cpu_cores=round(client_cores, 2),
            server_cpu_ms_per_message=round(busy[0] * 1000 / sent, 2) if busy and sent else None,
            database_cpu_ms_per_message=round(busy[1] * 1000 / sent, 2) if busy and sent else None,
            poll_p95_ms=_percentile(polls, 95),
            polls=len(polls),
            conversation_p95_ms=_percentile(opened, 95),
            conversations_opened=len(opened),
        )
        emit(
            queue_p50_ms=_percentile(queue, 50),
            queue_p95_ms=p95,
            queue_p99_ms=_percentile(queue, 99),
            queue_loads=len(queue),
            queue_loads_per_s=round(len(queue) / args.seconds, 1),
            message_p50_ms=_percentile(posts, 50),
            message_p95_ms=_percentile(posts, 95),
            messages_per_s=round(sent / (args.warmup + args.seconds), 1),
            messages_sent=sent,
            messages_acknowledged=figures["acknowledged"],
            messages_retried=figures["retried"],
            messages_stored=stored,
            messages_duplicated=duplicated,
            errors=figures["errors"],
            client_loop_lag_max_ms=round(figures["loop_lag_ms"], 1),
            none_lost_none_duplicated=stored == sent and duplicated == 0,
            target_queue_p95_ms=TARGET_QUEUE_P95_MS,
            meets_target=p95 is not None
            and p95 < TARGET_QUEUE_P95_MS
            and stored == sent
            and duplicated == 0,
        )
    finally:
        if server is not None:
            _stop(server)
        from django.db import connections

        connections.close_all()
        _admin(server_url, f'DROP DATABASE IF EXISTS "{database}"')
        shutil.rmtree(scratch, ignore_errors=True)


def _admin(server_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql)


def _world(args) -> dict:
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from opencx.contacts.models import Contact
    from opencx.inbox.models import Conversation
    from opencx.inbox.services import inbox_create_api
    from opencx.platform import services as platform
    from opencx.platform.models import Membership, User
    from opencx.platform.roles import Role
    from opencx.platform.selectors import actor_for

    owner = User.objects.create_user("bench@example.test", "bench-password")
    brand = platform.brand_create(owner=owner, name="Bench", slug="bench", timezone_name="UTC")
    actor = actor_for(user=owner, brand_slug="bench")
    store = platform.location_create(actor=actor, name="Store 1", code="store-1")
    issued = inbox_create_api(actor=actor, name="Shop backend", location=store)
    sessions = []
    agents = []
    for number in range(args.agents):
        user = User.objects.create_user(f"agent{number}@example.test", "bench-password")
        Membership.objects.create(user=user, brand=brand, role=Role.AGENT)
        agents.append(user)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    rng = random.Random(args.seed)
    now = timezone.now()
    contacts = Contact.objects.bulk_create(
        [Contact(brand=brand, name=f"Backlog {n}") for n in range(args.backlog)]
    )
    Conversation.objects.bulk_create(
        [
            Conversation(
                brand=brand,
                inbox=issued.inbox,
                location=store,
                channel=issued.inbox.channel,
                contact=contact,
                subject=f"Backlog {n}",
                status=rng.choice(["open", "open", "pending", "resolved"]),
                assignee=rng.choice([None, *agents]),
                created_at=now - timedelta(minutes=rng.uniform(1, 60 * 24 * 7)),
                waiting_since=now - timedelta(minutes=rng.uniform(1, 600)),
                last_activity_at=now,
            )
            for n, contact in enumerate(contacts)
        ],
        batch_size=1000,
    )
    return {
        "token": issued.token,
        "inbox": issued.inbox.pk,
        "conversations": list(
            Conversation.objects.filter(inbox=issued.inbox).values_list("pk", flat=True)[:500]
        ),
        "sessions": sessions,
        "cookie": settings.SESSION_COOKIE_NAME,
    }


def _count(world: dict, sent_ids: list[str]) -> tuple[int, int]:
    from django.db.models import Count

    from opencx.inbox.models import Message

    rows = (
        Message.objects.filter(inbox_id=world["inbox"], provider_message_id__in=sent_ids)
        .values("provider_message_id")
        .annotate(n=Count("pk"))
    )
    stored = duplicated = 0
    for row in rows:
        stored += 1
        duplicated += row["n"] - 1
    return stored, duplicated


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return round(values[index], 1)


HEADERS = "Host: {host}\r\nX-Forwarded-Proto: https\r\nConnection: keep-alive\r\n"


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, dict[str, list[str]], bytes]:
        """The answer's status, headers (lower-case names) and body."""
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
            try:
                self.writer.write(raw)
                await self.writer.drain()
                status, headers, body = await _read_response(self.reader)
                if "close" in ",".join(headers.get("connection", [])).lower():
                    self.close()
                return status, headers, body
            except (Closed, ConnectionError):
                self.close()
                if attempt:
                    raise
        raise Closed()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _get(path: str, cookie: str, session: str, extra: str = "") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\n{HEADERS.format(host=HOST)}"
        f"Cookie: {cookie}={session}\r\n{extra}\r\n"
    ).encode()


class Agent:
    """One agent's browser: requests on its own keep-alive connection, timed into `stats`."""

    def __init__(self, port: int, cookie: str, session: str, stats: dict) -> None:
        self.connection = Connection(port)
        self.cookie, self.session, self.stats = cookie, session, stats

    async def get(self, path: str, kind: str, extra: str = "") -> bytes | None:
        begun = time.perf_counter()
        try:
            status, _, body = await self.connection.request(
                _get(path, self.cookie, self.session, extra)
            )
        except (Closed, OSError):
            errors = self.stats["errors"]
            errors[f"{kind}:connection"] = errors.get(f"{kind}:connection", 0) + 1
            await asyncio.sleep(0.05)
            return None
        if status != 200:
            errors = self.stats["errors"]
            errors[f"{kind}:{status}"] = errors.get(f"{kind}:{status}", 0) + 1
            return None
        took = (time.perf_counter() - begun) * 1000
        self.stats[kind].append(took)
        traced = f"{kind}-fragment" if extra.startswith("HX-Request") else kind
        self.stats["trace"].append((begun - self.stats["start"], traced, took))
        return body


QUEUE = "/b/bench/inbox/"
_VERSION = re.compile(rb'data-version="([^"]*)"')


async def _agent(args, port, cookie, session, deadline, stats, conversations, seed) -> None:
    """What an agent's open queue page does (static/inbox/live.js): load the queue, poll its
    fingerprint every poll_ms, fetch the list fragment when it changed; now and then (a think
    time with mean --think seconds) open a conversation and go back to the queue."""
    rng = random.Random(seed)
    agent = Agent(port, cookie, session, stats)
    poll_s = 3.0
    await asyncio.sleep(rng.uniform(0, args.ramp))  # people sign in at different moments
    page = await agent.get(QUEUE, "queue")
    found = _VERSION.search(page or b"")
    version = found.group(1) if found else b""
    next_visit = time.perf_counter() + rng.expovariate(1 / args.think)
    await asyncio.sleep(poll_s)
    while time.perf_counter() < deadline:
        if time.perf_counter() >= next_visit:
            await agent.get(f"{QUEUE}{rng.choice(conversations)}/", "conversation")
            page = await agent.get(QUEUE, "queue")
            found = _VERSION.search(page or b"")
            version = found.group(1) if found else version
            next_visit = time.perf_counter() + rng.expovariate(1 / args.think)
        else:
            body = await agent.get(f"{QUEUE}live/", "poll", "Accept: application/json\r\n")
            if body is not None:
                state = json.loads(body)
                poll_s = state.get("poll_ms", 3000) / 1000
                if state["version"].encode() != version:
                    version = state["version"].encode()
                    await agent.get(QUEUE, "queue", "HX-Request: true\r\n")
        await asyncio.sleep(poll_s)


async def _agent_closed_loop(port, cookie, session, deadline, stats) -> None:
    """The stress variant (--closed-loop): reload the whole queue page as soon as it answered."""
    agent = Agent(port, cookie, session, stats)
    while time.perf_counter() < deadline:
        await agent.get(QUEUE, "queue")


async def _sender(port, token, queue: asyncio.Queue, stats: dict) -> None:
    connection = Connection(port)
    while True:
        item = await queue.get()
        if item is None:
            return
        planned, message_id, email = item
        body = json.dumps(
            {
                "contact": {"email": email},
                "subject": "Order question",
                "message": {"id": message_id, "body": "Where is my order?"},
            }
        ).encode()
        raw = (
            f"POST /api/v1/inbox-api/conversations HTTP/1.1\r\n{HEADERS.format(host=HOST)}"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        stats["sent_ids"].append(message_id)
        try:
            status, headers, _ = await connection.request(raw)
            # As a provider does: a 503 (every inbound lane busy) is sent again when it says.
            while status == 503 and headers.get("retry-after"):
                stats["retried"] += 1
                await asyncio.sleep(float(headers["retry-after"][0]))
                status, headers, _ = await connection.request(raw)
        except (Closed, OSError):
            stats["errors"]["message:connection"] = stats["errors"].get("message:connection", 0) + 1
            continue
        if status in (200, 201):
            stats["acknowledged"] += 1
            took = (time.perf_counter() - planned) * 1000
            stats["trace"].append((planned - stats["start"], "message", took))
            if planned >= stats["start"]:  # not during the warm-up
                stats["posts"].append(took)
        else:
            key = f"message:{status}"
            stats["errors"][key] = stats["errors"].get(key, 0) + 1


async def _warm(port: int, world: dict, deadline: float, rounds: int) -> None:
    """A server in service has served pages before: before the agents arrive, load the queue
    and a conversation `rounds` times on fresh connections, so every worker process has its
    database connections open and its templates compiled (a fresh process pays that once)."""
    stats: dict = {"queue": [], "conversation": [], "errors": {}, "trace": [], "start": 0.0}
    for number in range(rounds if world["sessions"] else 0):
        if time.perf_counter() >= deadline:
            return
        browser = Agent(port, world["cookie"], world["sessions"][0], stats)
        await browser.get(QUEUE, "queue")
        await browser.get(f"{QUEUE}{world['conversations'][number]}/", "conversation")
        browser.connection.close()


async def _drive(args, port: int, world: dict) -> dict:
    stats = {
        "queue": [],
        "poll": [],
        "conversation": [],
        "posts": [],
        "sent_ids": [],
        "acknowledged": 0,
        "retried": 0,
        "errors": {},
        "trace": [],
    }
    rng = random.Random(args.seed)
    begin = time.perf_counter()
    # Messages flow from `begin`; the agents arrive, and latencies count, from `start`.
    start = stats["start"] = begin + args.warmup
    deadline = start + args.seconds
    queue: asyncio.Queue = asyncio.Queue()
    senders = [
        asyncio.create_task(_sender(port, world["token"], queue, stats))
        for _ in range(args.senders)
    ]
    warm = asyncio.create_task(_warm(port, world, start, rounds=args.workers * args.threads))

    async def agents_arrive() -> None:
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        if args.closed_loop:
            work = [
                _agent_closed_loop(port, world["cookie"], session, deadline, stats)
                for session in world["sessions"]
            ]
        else:
            work = [
                _agent(
                    args,
                    port,
                    world["cookie"],
                    session,
                    deadline,
                    stats,
                    world["conversations"],
                    args.seed + number,
                )  # fmt: skip
                for number, session in enumerate(world["sessions"])
            ]
        await asyncio.gather(*work)

    agents = asyncio.create_task(agents_arrive())
    watch = asyncio.create_task(loop_lag_max_ms(deadline))
    total = int(args.rate * (args.warmup + args.seconds))
    for number in range(total):
        planned = begin + number / args.rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        email = f"customer{rng.randrange(args.customers)}@example.test"
        await queue.put((planned, f"bench-{number}", email))
    for _ in senders:
        await queue.put(None)
    await asyncio.gather(*senders, agents, warm)
    stats["loop_lag_ms"] = await watch
    return stats


if __name__ == "__main__":
    main()
