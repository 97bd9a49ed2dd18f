"""The Overview's queries on N responses, on SQLite and on PostgreSQL, read from the rollups.

    .venv/bin/python bench/dashboard.py                      # 1,000,000 responses, both backends
    .venv/bin/python bench/dashboard.py --responses 10000000 # the target size
    .venv/bin/python bench/dashboard.py --backends sqlite --responses 200000 --repeat 50

Each backend gets a scratch database (an SQLite file in a temporary directory; a PostgreSQL
database created on --postgres-url's server and dropped at the end), migrated, with one brand of
25 locations in 5 time zones, NPS/CSAT/CES surveys and N responses (one scored answer each)
spread over 548 days, generated with set-based SQL (a recursive CTE on SQLite, generate_series
on PostgreSQL). The rollups are rebuilt with `insights.services.rollups_rebuild`, then each
of the Overview's selectors is timed --repeat times. Output: JSON lines; per backend the load
figures and one line per query (median and p95 in ms, target ≤ 50 ms), a baseline line timing
the old raw-row scan of NPS by month (--baseline-repeat times) with the speed-up, and last a
summary line with responses, sqlite_median_ms and postgres_median_ms (the median over every
run of every query; the worst query's median is beside it).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

DEFAULT_PG = "postgres://postgres:postgres@127.0.0.1:5432/"
DAYS = 548
ZONES = ["Europe/Rome", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]
TARGET_MS = 50.0


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


# --- parent: one child process per backend (Django's settings are fixed once set up) ---------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=30, help="Timed runs per query")
    parser.add_argument("--baseline-repeat", type=int, default=3)
    parser.add_argument("--postgres-url", default=DEFAULT_PG, help="Server (no database name)")
    parser.add_argument("--backend", help=argparse.SUPPRESS)  # internal: run one backend here
    args = parser.parse_args()
    if args.backend:
        run_backend(args)
        return
    medians: dict[str, float | None] = {}
    worst: dict[str, float | None] = {}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        medians[backend] = worst[backend] = None
        command = [sys.executable, __file__, *sys.argv[1:], "--backend", backend]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        for line in child.stdout:
            print(line, end="", flush=True)
            record = json.loads(line)
            if record.get("summary_of") == backend:
                medians[backend] = record["median_ms"]
                worst[backend] = record["worst_query_median_ms"]
        if child.wait() != 0:
            emit(backend=backend, error=f"exit status {child.returncode}")
    emit(
        responses=args.responses,
        sqlite_median_ms=medians.get("sqlite"),
        postgres_median_ms=medians.get("postgres"),
        sqlite_worst_query_median_ms=worst.get("sqlite"),
        postgres_worst_query_median_ms=worst.get("postgres"),
        target_ms=TARGET_MS,
    )


# --- child: one backend ----------------------------------------------------------------------


def run_backend(args) -> None:
    scratch = tempfile.mkdtemp(prefix=f"ocx-bench-{args.backend}-")
    os.environ["OPENCX_DATA_DIR"] = scratch
    os.environ["DJANGO_SETTINGS_MODULE"] = "opencx.config.settings"
    database = None
    if args.backend == "postgres":
        database = f"opencx_bench_{os.getpid()}"
        _pg_admin(args.postgres_url, f"CREATE DATABASE {database}")
        os.environ["DATABASE_URL"] = args.postgres_url.rstrip("/") + f"/{database}"
    else:
        os.environ.pop("DATABASE_URL", None)
    try:
        import django

        django.setup()
        _bench(args)
    finally:
        from django.db import connections

        connections.close_all()
        if database:
            _pg_admin(args.postgres_url, f"DROP DATABASE IF EXISTS {database}")
        shutil.rmtree(scratch, ignore_errors=True)


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _timed(step: str, backend: str, function, *args):
    started = time.perf_counter()
    result = function(*args)
    emit(backend=backend, step=step, seconds=round(time.perf_counter() - started, 2))
    return result


def _bench(args) -> None:
    from django.core.management import call_command

    backend = args.backend
    _timed("migrate", backend, lambda: call_command("migrate", verbosity=0))
    world = _timed("setup", backend, _world)
    _timed("responses", backend, _load_responses, world, args.responses, backend)
    _timed("answers", backend, _load_answers, world)
    _timed("analyze", backend, _analyze, backend)
    from opencx.insights.services import rollups_rebuild

    rows = _timed("rollups_rebuild", backend, lambda: rollups_rebuild(brand=world["brand"]))
    _timed("analyze", backend, _analyze, backend)
    emit(backend=backend, responses=args.responses, rollup_rows=rows)
    _time_queries(args, world)


def _world() -> dict:
    from opencx.platform import services as platform
    from opencx.platform.models import Channel, Touchpoint, User
    from opencx.platform.selectors import actor_for
    from opencx.surveys.models import Question, Survey

    owner = User.objects.create_user("bench@example.test", "bench-password")
    brand = platform.brand_create(owner=owner, name="Bench", slug="bench", timezone_name="UTC")
    actor = actor_for(user=owner, brand_slug="bench")
    stores = []
    for r, zone in enumerate(ZONES):
        region = platform.location_create(
            actor=actor, name=f"Region {r}", code=f"r{r}", kind="region", timezone=zone
        )
        for s in range(5):
            stores.append(
                platform.location_create(
                    actor=actor,
                    name=f"Store {r}.{s}",
                    code=f"s{r}-{s}",
                    parent=region,
                    timezone=zone,
                )
            )
    Channel.objects.bulk_create(
        Channel(brand=brand, kind=kind, name=kind) for kind in ("email", "sms", "web", "in_store")
    )
    touchpoints = list(Touchpoint.objects.filter(brand=brand).order_by("pk")[:4])
    surveys = {}
    for kind, low, high, satisfied in (
        ("nps", 0, 10, [9, 10]),
        ("csat", 1, 5, [4, 5]),
        ("ces", 1, 7, [5, 6, 7]),
    ):
        survey = Survey.objects.create(brand=brand, name=kind, kind=kind)
        question = Question.objects.create(
            survey=survey,
            kind=kind,
            text={"en": kind},
            scale_min=low,
            scale_max=high,
            satisfied_values=satisfied,
        )
        surveys[kind] = (survey.pk, question.pk, low, high)
    return {
        "brand": brand,
        "actor": actor,
        "stores": [store.pk for store in stores],
        "channels": [c.pk for c in Channel.objects.filter(brand=brand).order_by("pk")],
        "touchpoints": [t.pk for t in touchpoints],
        "surveys": surveys,
    }


def _case(expression: str, values: list[int]) -> str:
    whens = " ".join(f"WHEN {i} THEN {value}" for i, value in enumerate(values))
    return f"CASE {expression} {whens} END"


def _load_responses(world: dict, total: int, backend: str) -> None:
    """N responses by INSERT … SELECT: 70% NPS, 20% CSAT, 10% CES, each survey at its own
    touchpoint; a random store, one of 3 channels; moments in time order over the last DAYS days
    (as responses arrive, which keeps the time indexes append-only); scores uniform."""
    from django.db import connection, transaction

    now = int(time.time())
    span = DAYS * 86400
    start = now - span
    step = max(1, span // total)  # rows come in time order (as they arrive), each jittered
    nps, csat, ces = (world["surveys"][k] for k in ("nps", "csat", "ces"))
    if backend == "postgres":
        rand = "floor(random() * {n})::int"
        series = f"generate_series(0, {total - 1}) AS seq(i)"
        moment = f"to_timestamp({start} + i::bigint * {span} / {total} + floor(random() * {step}))"
        false = "false"
    else:
        rand = "(abs(random()) % {n})"
        series = "seq"
        moment = f"datetime({start} + i * {span} / {total} + abs(random()) % {step}, 'unixepoch')"
        false = "0"
    kind = "CASE WHEN i % 10 < 7 THEN 0 WHEN i % 10 < 9 THEN 1 ELSE 2 END"
    survey = _case(kind, [nps[0], csat[0], ces[0]])
    score = (
        f"CASE WHEN i % 10 < 7 THEN {rand.format(n=11)} "
        f"WHEN i % 10 < 9 THEN 1 + {rand.format(n=5)} ELSE 1 + {rand.format(n=7)} END"
    )
    store = _case(rand.format(n=len(world["stores"])), world["stores"])
    channel = _case(rand.format(n=3), world["channels"][:3])
    touchpoint = _case(kind, world["touchpoints"][:3])  # each survey asks at one touchpoint
    select = (
        f"SELECT {world['brand'].pk}, {survey}, {store}, {touchpoint}, {channel}, NULL, 'en', "
        f"{moment}, NULL, {false}, {score}, '' FROM {series}"
    )
    insert = (
        "INSERT INTO surveys_response (brand_id, survey_id, location_id, touchpoint_id, "
        "channel_id, contact_id, language, created_at, completed_at, is_partial, score, comment) "
    )
    chunk = 2_000_000
    with transaction.atomic(), connection.cursor() as cursor:
        for offset in range(0, total, chunk):
            size = min(chunk, total - offset)
            if backend == "postgres":
                sql = insert + select.replace(
                    series, f"generate_series({offset}, {offset + size - 1}) AS seq(i)"
                )
            else:
                sql = (
                    f"WITH RECURSIVE seq(i) AS (SELECT {offset} UNION ALL SELECT i + 1 FROM seq "
                    f"WHERE i < {offset + size - 1}) " + insert + select
                )
            cursor.execute(sql)


def _load_answers(world: dict) -> None:
    """Each response's headline answer, copied from its score in one INSERT … SELECT."""
    from django.db import connection, transaction

    question = "CASE survey_id " + " ".join(
        f"WHEN {survey} THEN {question}" for survey, question, _, _ in world["surveys"].values()
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO surveys_answer (response_id, question_id, score, text) "
            f"SELECT id, {question} END, score, '' FROM surveys_response "
            f"WHERE brand_id = {world['brand'].pk}"
        )


def _analyze(backend: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _time_queries(args, world: dict) -> None:
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.db.models.functions import TruncMonth
    from django.utils import timezone

    from opencx.insights import selectors

    actor, backend = world["actor"], args.backend
    now = timezone.now()
    since = now - timedelta(days=90)
    queries = {
        "nps_counts": lambda: selectors.nps_counts(actor, location=None, since=since),
        "nps_counts_previous": lambda: selectors.nps_counts(
            actor, location=None, since=since - timedelta(days=90), until=since
        ),
        "satisfied_counts_csat": lambda: selectors.satisfied_counts(
            actor, kind="csat", location=None, since=since
        ),
        "satisfied_counts_ces": lambda: selectors.satisfied_counts(
            actor, kind="ces", location=None, since=since
        ),
        "nps_counts_by_month": lambda: selectors.nps_counts_by_month(
            actor, location=None, since=now - timedelta(days=549)
        ),
        "nps_counts_by_location": lambda: selectors.nps_counts_by_location(
            actor, location=None, since=since
        ),
    }
    all_runs: list[float] = []
    medians = []
    for name, query in queries.items():
        query()  # warm the caches and the connection
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            query()
            runs.append((time.perf_counter() - started) * 1000)
        runs.sort()
        median = statistics.median(runs)
        medians.append(median)
        all_runs += runs
        emit(
            backend=backend,
            query=name,
            runs=len(runs),
            median_ms=round(median, 2),
            p95_ms=round(runs[min(len(runs) - 1, int(0.95 * len(runs)))], 2),
            within_target=median <= TARGET_MS,
        )

    def raw_nps_by_month():
        """The Overview's NPS-by-month before the rollups: a scan of the responses."""
        return list(
            selectors._responses(actor, None, now - timedelta(days=549))
            .filter(survey__kind="nps")
            .annotate(month=TruncMonth("created_at"))
            .values("month")
            .annotate(
                n=Count("id"),
                promoters=Count("id", filter=Q(score__gte=9)),
                detractors=Count("id", filter=Q(score__lte=6)),
            )
            .order_by("month")
        )

    if args.baseline_repeat:
        runs = []
        for _ in range(args.baseline_repeat):
            started = time.perf_counter()
            raw_nps_by_month()
            runs.append((time.perf_counter() - started) * 1000)
        baseline = statistics.median(runs)
        rollup = medians[list(queries).index("nps_counts_by_month")]
        emit(
            backend=backend,
            baseline="raw_scan_nps_counts_by_month",
            runs=len(runs),
            median_ms=round(baseline, 1),
            rollup_median_ms=round(rollup, 2),
            speedup=round(baseline / rollup, 1) if rollup else None,
        )
    emit(
        summary_of=backend,
        median_ms=round(statistics.median(all_runs), 2),
        worst_query_median_ms=round(max(medians), 2),
    )


if __name__ == "__main__":
    main()
