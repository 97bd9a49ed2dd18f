"""NPS, CSAT and CES with intervals by location × month on 1M, 10M and more synthetic responses.

The fastest OpenCX engine (`scores_many`: the three metrics' counts in one pass over the rows)
against idiomatic pandas (boolean columns, one groupby for all three metrics, then the same
interval code) in the same run. Each size runs in a fresh process so peak memory (ru_maxrss) is
that size's own. Prints JSON lines; the last is the 10M headline:
rows, seconds, pandas_seconds, speedup_vs_pandas, peak_mb.

    .venv/bin/python bench/metrics.py                  # 1M, 10M, 50M
    .venv/bin/python bench/metrics.py --sizes 1000000,10000000 --engines pandas,duckdb
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from opencx.analytics.engine import scores_from_counts, scores_many
from opencx.analytics.engine.spec import ces_spec, csat_spec, nps_spec
from opencx.analytics.metrics.ces import CES_2
from opencx.analytics.metrics.csat import ONE_TO_FIVE

LOCATIONS = 400
MONTHS = 18
METRICS = [("nps", nps_spec()), ("csat", csat_spec(ONE_TO_FIVE)), ("ces", ces_spec(CES_2))]
BY = ["location", "month"]


def synthetic(rows: int, seed: int = 7) -> pd.DataFrame:
    """Seeded responses: 400 locations × 18 months, NPS 0–10, CSAT 1–5, CES 1–7 (int8)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "s").astype("int64")
    span = (np.datetime64("2025-07-01", "s") - np.datetime64("2024-01-01", "s")).astype("int64")
    return pd.DataFrame(
        {
            "location": rng.integers(0, LOCATIONS, rows, dtype="int32"),
            "created_at": (start + rng.integers(0, span, rows)).astype("datetime64[s]"),
            "nps": rng.choice(11, rows, p=[0.03] * 7 + [0.12, 0.18, 0.25, 0.24]).astype("int8"),
            "csat": rng.integers(1, 6, rows, dtype="int8"),
            "ces": rng.integers(1, 8, rows, dtype="int8"),
        }
    )


def engine_run(frame: object, engine: str) -> dict[str, pd.DataFrame]:
    """Counts and scores with intervals for the three metrics on one engine, in one pass."""
    return scores_many(frame, dict(METRICS), BY, engine=engine)


def pandas_run(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What a pandas user writes: derive the month, flag, group, sum; then the same intervals."""
    month = frame["created_at"].dt.to_period("M")
    flags = pd.DataFrame(
        {
            "location": frame["location"],
            "month": month,
            "one": 1,
            "promoter": frame["nps"] >= 9,
            "detractor": frame["nps"] <= 6,
            "satisfied": frame["csat"].isin([4, 5]),
            "agree": frame["ces"] >= 5,
            "disagree": frame["ces"] <= 3,
        }
    )
    sums = flags.groupby(BY, observed=True).sum().reset_index()
    sums["month"] = sums["month"].astype(str)
    zero = np.zeros(len(sums), dtype="int64")
    tables = {
        "nps": (sums["promoter"], sums["detractor"]),
        "csat": (sums["satisfied"], zero),
        "ces": (sums["agree"], sums["disagree"]),
    }
    result = {}
    for name, spec in METRICS:
        good, bad = tables[name]
        table = sums[BY].assign(n=sums["one"], good=good, bad=bad, sum=0, sum_sq=0)
        result[name] = scores_from_counts(table, spec, BY)
    return result


def best_of(repeats: int, work, *args) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work(*args)
        timings.append(time.perf_counter() - started)
    return min(timings), result


def one_size(rows: int, engines: list[str], repeats: int, with_pandas: bool) -> dict:
    frame = synthetic(rows)
    figures: dict[str, object] = {"rows": rows}
    results = {}
    for engine in engines:
        data = frame
        if engine == "polars":
            import polars as pl

            data = pl.from_pandas(frame)
        seconds, results[engine] = best_of(repeats, engine_run, data, engine)
        figures[f"engine_{engine}_seconds"] = round(seconds, 4)
    fastest = min(engines, key=lambda e: figures[f"engine_{e}_seconds"])
    figures["engine"] = fastest
    figures["seconds"] = figures[f"engine_{fastest}_seconds"]
    if with_pandas:
        pandas_seconds, reference = best_of(repeats, pandas_run, frame)
        figures["pandas_seconds"] = round(pandas_seconds, 4)
        figures["speedup_vs_pandas"] = round(pandas_seconds / figures["seconds"], 2)
        for name, _ in METRICS:  # the same numbers, or the comparison means nothing
            ours = results[fastest][name]
            assert ours["n"].tolist() == reference[name]["n"].tolist(), name
            np.testing.assert_allclose(ours["value"], reference[name]["value"], atol=1e-9)
    figures["groups"] = len(results[fastest]["nps"])
    figures["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["cpus"] = os.cpu_count()
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,50000000,10000000")
    parser.add_argument("--engines", default="pandas,duckdb")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-pandas-above", type=int, default=60_000_000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    engines = args.engines.split(",")
    if args.one:
        figures = one_size(args.one, engines, args.repeats, args.one <= args.no_pandas_above)
        print(json.dumps(figures), flush=True)
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    # the headline size (10M) runs last, so its line is the last one printed
    sizes.sort(key=lambda size: (size == 10_000_000, size))
    for size in sizes:
        command = [sys.executable, __file__, "--one", str(size), "--engines", args.engines]
        command += ["--repeats", str(args.repeats if size <= 10_000_000 else 1)]
        command += ["--no-pandas-above", str(args.no_pandas_above)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(json.dumps({"rows": size, "error": done.stderr.strip()[-500:]}), flush=True)
            continue
        print(done.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
