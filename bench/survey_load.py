"""Respondents submitting the hosted NPS survey to the production server, on SQLite and PostgreSQL.

    .venv/bin/python bench/survey_load.py                      # 300 answers/s offered, 20 s each
    .venv/bin/python bench/survey_load.py --rate 0 --connections 16   # saturation throughput
    .venv/bin/python bench/survey_load.py --backends sqlite --workers 2 --threads 4

Each backend gets a scratch database (an SQLite file in a temporary OPENCX_DATA_DIR; a PostgreSQL
database created on --postgres-url's server and dropped at the end; by default PostgreSQL runs
when that server answers), migrated, with one brand, one store and its owner, the library's NPS
survey and the store's public link. `opencx serve` (gunicorn, gthread, DEBUG off, rate limits
off) then listens on a free loopback port, as behind a TLS-terminating proxy (X-Forwarded-Proto:
https, the browser's Origin header). The load comes from this process, not the server's: an
asyncio HTTP/1.1 keep-alive client with --connections connections, each fetching the form once
(the CSRF cookie and token) and then posting random 0–10 scores for --seconds: by default on a
fixed schedule of --rate posts per second shared by all connections, each latency counted from
its planned send time, so a server that falls behind shows it in p99 (open loop, as wrk2 does);
with --rate 0 each connection posts again as soon as answered (closed loop: the most the server
can take, where latency only measures the queue). Every POST's latency is recorded; a 303 is
an acknowledged response, anything else an error (counted by status). Throughput and latency
are read after --warmup seconds; acknowledged counts every 303. Requests in flight at the end
are waited for, then the database is counted: the responses stored must equal the acknowledged
ones and the rollups' n must equal the stored responses.

Output: JSON lines; per backend a setup line and the headline line with backend,
responses_per_s, p50_ms, p99_ms, acknowledged, stored, errors and the targets (300 responses/s
with p99 < 200 ms); the last line is PostgreSQL's when it ran.
"""

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

DEFAULT_PG = "postgres://postgres:postgres@127.0.0.1:5432/"
TARGET_RESPONSES_PER_S = 300
TARGET_P99_MS = 200.0
HOST = "127.0.0.1"


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


# --- parent: one child process per backend (Django's settings are fixed once set up) ---------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="Load time per backend")
    parser.add_argument("--warmup", type=float, default=2.0, help="Seconds not measured")
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_RESPONSES_PER_S,
        help="Answers per second offered on a fixed schedule, latency counted from the planned "
        "send time (open loop); 0: every connection posts as fast as answered (closed loop, "
        "the saturation throughput)",
    )
    parser.add_argument("--connections", type=int, default=32, help="Concurrent respondents")
    parser.add_argument(
        "--stores",
        type=int,
        default=1,
        help="Stores with their own link, respondents spread over them; 1 (the default) sends "
        "every answer to the same rollup row, the hardest case for concurrent writers",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="Threads per worker")
    parser.add_argument(
        "--backends",
        default="auto",
        help="sqlite,postgres; auto: SQLite, then PostgreSQL when --postgres-url answers",
    )
    parser.add_argument("--postgres", action="store_true", help="Require PostgreSQL")
    parser.add_argument("--postgres-url", default=DEFAULT_PG, help="Server (no database name)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--trace",
        metavar="PREFIX",
        help="Write every POST as 'seconds_into_run latency_ms status' to PREFIX-<backend>.txt",
    )
    parser.add_argument("--backend", help=argparse.SUPPRESS)  # internal: run one backend here
    args = parser.parse_args()
    if args.backend:
        run_backend(args)
        return
    if args.backends == "auto":
        backends = ["sqlite"]
        if args.postgres or _postgres_answers(args.postgres_url):
            backends.append("postgres")
        else:
            emit(backend="postgres", skipped=f"no PostgreSQL at {_redacted(args.postgres_url)}")
    else:
        backends = [b.strip() for b in args.backends.split(",") if b.strip()]
        if args.postgres and "postgres" not in backends:
            backends.append("postgres")
    failed = False
    for backend in backends:
        command = [sys.executable, __file__, *sys.argv[1:], "--backend", backend]
        if subprocess.run(command).returncode != 0:
            emit(backend=backend, error="the run failed (see stderr)")
            failed = True
    sys.exit(1 if failed else 0)


def _postgres_answers(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url.rstrip("/") + "/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def _redacted(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}:{parts.port or 5432}/"


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(sql)


# --- child: one backend ----------------------------------------------------------------------


def run_backend(args) -> None:
    scratch = tempfile.mkdtemp(prefix=f"ocx-bench-load-{args.backend}-")
    env = {
        "OPENCX_DATA_DIR": scratch,
        "DJANGO_SETTINGS_MODULE": "opencx.config.settings",
        "DEBUG": "false",
        "ALLOWED_HOSTS": HOST,
        "SURVEY_RATE_PER_IP": "0",
        "SURVEY_RATE_PER_LINK": "0",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    database = None
    if args.backend == "postgres":
        database = f"opencx_bench_load_{os.getpid()}"
        _pg_admin(args.postgres_url, f"DROP DATABASE IF EXISTS {database}")
        _pg_admin(args.postgres_url, f"CREATE DATABASE {database}")
        os.environ["DATABASE_URL"] = args.postgres_url.rstrip("/") + f"/{database}"
    elif args.backend == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    else:
        raise SystemExit(f"unknown backend {args.backend!r}")
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        world = _world(args.stores)
        connections.close_all()  # the server and this process must not share a connection
        emit(
            backend=args.backend,
            step="setup",
            seconds=round(time.perf_counter() - started, 2),
            workers=args.workers,
            threads=args.threads,
            connections=args.connections,
        )
        port = _free_port()
        log = open(os.path.join(scratch, "server.log"), "w")  # noqa: SIM115 (closed with the server)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "opencx.cli",
                "serve",
                "--host",
                HOST,
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--no-worker",  # the web server alone: the task worker is not in this path
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
            start_new_session=True,
        )
        _wait_healthy(port, server, log.name)
        if database:
            # As pgbench does: flush what earlier runs left dirty, so their deferred writes do
            # not land in this run's measurement.
            _pg_admin(args.postgres_url, "CHECKPOINT")
        figures = _load(args, port, world, server.pid, database)
        _stop(server)
        server = None
        stored, rollup_n = _count(world)
        acknowledged = figures.pop("acknowledged")
        meets = (
            figures["responses_per_s"] >= 0.99 * TARGET_RESPONSES_PER_S  # window edges
            and figures["p99_ms"] is not None
            and figures["p99_ms"] < TARGET_P99_MS
        )
        emit(
            backend=args.backend,
            responses_per_s=figures.pop("responses_per_s"),
            p50_ms=figures.pop("p50_ms"),
            p99_ms=figures.pop("p99_ms"),
            acknowledged=acknowledged,
            stored=stored,
            rollup_n=rollup_n,
            errors=figures.pop("errors"),
            none_lost_none_duplicated=stored == acknowledged and rollup_n == stored,
            **figures,
            target_responses_per_s=TARGET_RESPONSES_PER_S,
            target_p99_ms=TARGET_P99_MS,
            meets_target=meets,
        )
    finally:
        if server is not None:
            _stop(server)
        from django.db import connections

        connections.close_all()
        if database:
            _pg_admin(args.postgres_url, f"DROP DATABASE IF EXISTS {database}")
        shutil.rmtree(scratch, ignore_errors=True)


def _world(stores: int) -> dict:
    from opencx.platform import services as platform
    from opencx.platform.models import User
    from opencx.platform.selectors import actor_for
    from opencx.surveys.definitions import library
    from opencx.surveys.services import link_ensure, survey_import

    owner = User.objects.create_user("bench@example.test", "bench-password")
    platform.brand_create(owner=owner, name="Bench", slug="bench", timezone_name="UTC")
    actor = actor_for(user=owner, brand_slug="bench")
    survey = survey_import(actor=actor, spec=library()["nps"])
    tokens = []
    for number in range(stores):
        store = platform.location_create(
            actor=actor, name=f"Store {number + 1}", code=f"store-{number + 1}"
        )
        tokens.append(link_ensure(actor=actor, survey=survey, location=store).token)
    question = survey.questions.get(key="nps")
    return {"survey": survey.pk, "question": question.pk, "tokens": tokens}


def _count(world: dict) -> tuple[int, int]:
    from django.db.models import Sum

    from opencx.insights.models import ResponseRollup
    from opencx.surveys.models import Response

    stored = Response.objects.filter(survey_id=world["survey"]).count()
    rollup = ResponseRollup.objects.filter(question_id=world["question"]).aggregate(n=Sum("n"))
    return stored, int(rollup["n"] or 0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _wait_healthy(port: int, server: subprocess.Popen, log: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    with open(log) as text:
        sys.stderr.write(text.read()[-4000:])
    raise SystemExit("the server did not become healthy")


def _stop(server: subprocess.Popen) -> None:
    """TERM: gunicorn lets the workers finish their requests, then exits."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the load: respondents on keep-alive connections -----------------------------------------


class Stats:
    def __init__(self) -> None:
        self.latencies: list[tuple[float, float, int]] = []  # (start, seconds, status)
        self.statuses: dict[str, int] = {}
        self.gets = 0
        self.loop_lag_ms = 0.0

    def count(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


class Closed(Exception):
    pass


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, list[str]], bytes]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        raise Closed() from error
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    if "chunked" in ",".join(headers.get("transfer-encoding", [])).lower():
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                break
            del body[-2:]
        while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
            pass
        return status, headers, bytes(body)
    length = int(headers.get("content-length", ["0"])[0])
    return status, headers, await reader.readexactly(length)


class Respondent:
    """One browser: one keep-alive connection, reopened when the server closes it."""

    def __init__(self, port: int, world: dict, rng: random.Random, stats: Stats, index: int):
        self.port = port
        # Each respondent answers at one store's counter (links spread round-robin).
        self.path = f"/s/{world['tokens'][index % len(world['tokens'])]}/"
        self.field = f"q-{world['question']}"
        self.rng = rng
        self.stats = stats
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookie = ""
        self.token = ""
        self.common = (
            f"Host: {HOST}:{port}\r\nX-Forwarded-Proto: https\r\n"
            f"Origin: https://{HOST}:{port}\r\nUser-Agent: opencx-bench\r\n"
            "Accept-Language: en\r\n"
        )

    async def _request(self, head: str, body: bytes = b""):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.writer.write(head.encode("latin-1") + body)
        await self.writer.drain()
        status, headers, content = await _read_response(self.reader)
        if "close" in ",".join(headers.get("connection", [])).lower():
            await self.close()
        return status, headers, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def fetch_form(self) -> None:
        status, headers, body = await self._request(
            f"GET {self.path} HTTP/1.1\r\n{self.common}\r\n"
        )
        self.stats.gets += 1
        if status != 200:
            raise RuntimeError(f"GET {self.path} answered {status}")
        for value in headers.get("set-cookie", []):
            if value.startswith("csrftoken="):
                self.cookie = value.split(";", 1)[0]
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if not self.cookie or not found:
            raise RuntimeError("the form came without a CSRF cookie or token")
        self.token = found.group(1).decode()

    async def post_score(self) -> int:
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": self.token, self.field: str(self.rng.randint(0, 10))}
        ).encode()
        head = (
            f"POST {self.path} HTTP/1.1\r\n{self.common}Cookie: {self.cookie}\r\n"
            f"Referer: https://{HOST}:{self.port}{self.path}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        status, _, _ = await self._request(head, body)
        return status

    async def run(self, deadline: float, timeout: float, schedule: "Schedule | None") -> None:
        await asyncio.wait_for(self.fetch_form(), timeout)
        while True:
            if schedule is not None:
                # Open loop: post at the planned moment and count the wait for a free
                # connection as latency too (no coordinated omission).
                started = schedule.next()
                if started >= deadline:
                    break
                delay = started - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                started = time.perf_counter()
                if started >= deadline:
                    break
            try:
                status = await asyncio.wait_for(self.post_score(), timeout)
            except (TimeoutError, Closed, OSError) as error:
                # No answer: the server may or may not have stored it (stored > acknowledged).
                self.stats.count(f"no_answer:{type(error).__name__}")
                await self.close()
                continue
            self.stats.latencies.append((started, time.perf_counter() - started, status))
            self.stats.count(str(status))
        await self.close()


class Schedule:
    """Planned send times at a fixed rate, shared by every connection."""

    def __init__(self, rate: float, begin: float) -> None:
        self.interval = 1.0 / rate
        self.begin = begin
        self.sent = 0

    def next(self) -> float:
        planned = self.begin + self.sent * self.interval
        self.sent += 1
        return planned


async def _drive(args, port: int, world: dict) -> tuple[Stats, float, float]:
    stats = Stats()
    rng = random.Random(args.seed)
    respondents = [
        Respondent(port, world, random.Random(rng.random()), stats, index)
        for index in range(args.connections)
    ]
    begin = time.perf_counter()
    measure_from = begin + args.warmup
    deadline = measure_from + args.seconds
    schedule = Schedule(args.rate, begin + 1.0) if args.rate > 0 else None
    watch = asyncio.create_task(loop_lag_max_ms(deadline))
    await asyncio.gather(*(r.run(deadline, timeout=60, schedule=schedule) for r in respondents))
    stats.loop_lag_ms = await watch
    return stats, measure_from, deadline


async def loop_lag_max_ms(deadline: float) -> float:
    """How late this client's own event loop woke at worst until `deadline`: a stall seen here
    is not the server's."""
    worst = 0.0
    while time.perf_counter() < deadline:
        planned = time.perf_counter() + 0.01
        await asyncio.sleep(0.01)
        worst = max(worst, (time.perf_counter() - planned) * 1000)
    return worst


@contextlib.contextmanager
def client_gc_paused():
    """No garbage collection in this measuring client while it measures: a full collection of a
    process that set Django up stops its event loop ~200 ms, and every request in flight would
    count that as the server's latency. What the setup left is frozen; the load's own
    allocations are small."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def _load(args, port: int, world: dict, server_pid: int, database: str | None) -> dict:
    cpu_before = _cpu_times()
    server_before = _process_cpu(server_pid, database)
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    with client_gc_paused():
        stats, measure_from, deadline = asyncio.run(_drive(args, port, world))
    elapsed = time.perf_counter() - wall
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_after = _cpu_times()
    server_after = _process_cpu(server_pid, database)
    if args.trace:
        with open(f"{args.trace}-{args.backend}.txt", "w") as trace:
            for start, seconds, status in sorted(stats.latencies):
                trace.write(f"{start - measure_from:.4f} {seconds * 1000:.1f} {status}\n")
    acked = [(start, seconds) for start, seconds, status in stats.latencies if status == 303]
    # Throughput: acknowledgements that arrived in the window; latency: every POST sent in it.
    done_in_window = sum(
        1 for start, seconds in acked if measure_from <= start + seconds <= deadline
    )
    latencies = sorted(seconds * 1000 for start, seconds in acked if start >= measure_from)
    window = deadline - measure_from
    busy = _busy_share(cpu_before, cpu_after)
    client_cpu = (self_after.ru_utime - self_before.ru_utime) + (
        self_after.ru_stime - self_before.ru_stime
    )
    acknowledged = stats.statuses.get("303", 0)
    per_response = {
        "server": _per_response(server_before, server_after, 0, acknowledged),
        "database": _per_response(server_before, server_after, 1, acknowledged)
        if database
        else None,
        "client": round(client_cpu * 1000 / acknowledged, 2) if acknowledged else None,
    }
    cost = sum(v for v in per_response.values() if v is not None)
    cpus = os.cpu_count() or 1
    return {
        "responses_per_s": round(done_in_window / window, 1),
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
        "acknowledged": acknowledged,
        "errors": sum(n for status, n in stats.statuses.items() if status != "303"),
        "statuses": stats.statuses,
        "p90_ms": _percentile(latencies, 90),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "measured_seconds": round(window, 1),
        "mode": f"open loop at {args.rate:g}/s" if args.rate > 0 else "closed loop (saturation)",
        "connections": args.connections,
        "stores": args.stores,
        "workers": args.workers,
        "threads": args.threads,
        "client_cpu_share": round(client_cpu / elapsed, 2),
        "client_loop_lag_max_ms": round(stats.loop_lag_ms, 1),
        "machine_cpu_busy_share": busy,
        "cpus": cpus,
        "server_cpu_ms_per_response": per_response["server"],
        "database_cpu_ms_per_response": per_response["database"],
        "client_cpu_ms_per_response": per_response["client"],
        # What the machine could do if nothing else ran: all its CPUs over the CPU time one
        # response costs (server + database server + this client), measured above.
        "cpu_bound_responses_per_s": round(cpus * 1000 / cost, 1) if cost else None,
    }


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    return round(values[max(0, math.ceil(p / 100 * len(values)) - 1)], 1)


def _process_cpu(server_pid: int, database: str | None) -> tuple[float, float] | None:
    """CPU seconds so far of the server's process tree and of PostgreSQL's backends serving
    `database` (found by their process titles), from /proc; None where /proc cannot tell."""
    try:
        parents: dict[int, int] = {}
        times: dict[int, float] = {}
        database_cpu = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                title = ""
                if database:
                    with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                        title = cmdline.read().decode(errors="replace")
            except OSError:
                continue  # gone meanwhile
            pid = int(entry)
            parents[pid] = int(fields[1])
            times[pid] = (int(fields[11]) + int(fields[12])) / tick
            if database and title.startswith("postgres:") and f" {database} " in title:
                database_cpu += times[pid]
        tree = {server_pid}
        grew = True
        while grew:
            children = {pid for pid, parent in parents.items() if parent in tree} - tree
            grew = bool(children)
            tree |= children
        return sum(times.get(pid, 0.0) for pid in tree), database_cpu
    except OSError:
        return None


def _per_response(before, after, index: int, count: int) -> float | None:
    """CPU milliseconds per response of one of _process_cpu's figures."""
    if before is None or after is None or not count:
        return None
    return round((after[index] - before[index]) * 1000 / count, 2)


def _cpu_times() -> list[int]:
    with open("/proc/stat") as stat:
        return [int(x) for x in stat.readline().split()[1:]]


def _busy_share(before: list[int], after: list[int]) -> float | None:
    """Share of all the machine's CPUs busy during the load (other processes included)."""
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta)
    idle = delta[3] + (delta[4] if len(delta) > 4 else 0)
    return round(1 - idle / total, 2) if total else None


if __name__ == "__main__":
    main()
