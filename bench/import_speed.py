"""Import speed and memory: generate a CSV of reviews, stream it, print JSON lines.

    python bench/import_speed.py --rows 200000             # reader + mapping only (no database)
    python bench/import_speed.py --mb 1024                 # a ~1 GB file, reader + mapping
    OPENCX_DATA_DIR=/tmp/x python bench/import_speed.py --rows 20000 --db   # full import

The file goes to a temporary folder and is deleted afterwards (keep it with --keep). Each line
is JSON; the last one is the headline: rows, seconds, rows_per_s, peak_mb (peak resident set
size of this process), file_mb.
"""

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

TEXTS = [
    "Personale gentilissimo, tornerò presto.",
    "Gute Auswahl, aber lange Schlange an der Kasse.",
    "Trop d'attente en caisse, personnel débordé.",
    "Great coffee, friendly staff and a clean shop.",
    "Pedido atrasado há uma semana, ninguém responde.",
    "とても親切なスタッフでした。",
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, *, rows: int, mb: int, locations: list[str]) -> int:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    target = mb * 1024 * 1024 if mb else None
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("id,date,author,email,stars,text,location\n")
        n = 0
        rng = random.Random(7)
        while (target and handle.tell() < target) or (not target and n < rows):
            n += 1
            when = start + timedelta(minutes=n)
            text = " ".join(rng.choice(TEXTS) for _ in range(rng.randint(1, 6)))
            handle.write(
                f"b-{n},{when:%Y-%m-%d %H:%M},Customer {n % 5000},c{n % 5000}@example.test,"
                f'{rng.randint(1, 5)},"{text}",{rng.choice(locations)}\n'
            )
        written = n
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mb", type=int, default=0, help="Generate this many MB instead")
    parser.add_argument("--db", action="store_true", help="Full import into the database")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opencx.config.settings")
    import django

    django.setup()
    from opencx.feedback import readers
    from opencx.feedback.mappings import map_record, ready_mapping

    baseline = peak_mb()  # Django and the app loaded, nothing read yet
    folder = Path(tempfile.mkdtemp(prefix="ocx-bench-"))
    path = folder / "reviews.csv"
    begin = time.perf_counter()
    rows = generate(path, rows=args.rows, mb=args.mb, locations=["milano", "torino"])
    size_mb = path.stat().st_size / 1024 / 1024
    print(json.dumps({"step": "generate", "rows": rows, "file_mb": round(size_mb, 1),
                      "seconds": round(time.perf_counter() - begin, 1)}), flush=True)  # fmt: skip
    try:
        begin = time.perf_counter()
        if args.db:
            seconds, read = _full_import(path)
        else:
            mapping = ready_mapping("reviews")
            read = bad = 0
            for record in readers.Source(path).records():
                read += 1
                if record.data is None or not map_record(mapping, record.data).ok:
                    bad += 1
            seconds = time.perf_counter() - begin
        print(
            json.dumps(
                {
                    "mode": "import" if args.db else "read+map",
                    "rows": read,
                    "seconds": round(seconds, 1),
                    "rows_per_s": round(read / seconds),
                    "peak_mb": round(peak_mb(), 1),
                    "baseline_mb": round(baseline, 1),
                    "file_mb": round(size_mb, 1),
                }
            ),
            flush=True,
        )
    finally:
        if not args.keep:
            path.unlink()
            folder.rmdir()


def _full_import(path: Path) -> tuple[float, int]:
    from django.core.management import call_command

    from opencx.feedback import services
    from opencx.feedback.mappings import ready_mapping
    from opencx.platform.actor import Actor
    from opencx.platform.models import Brand, Location, Membership, User
    from opencx.platform.roles import Role

    call_command("migrate", verbosity=0)
    brand, _ = Brand.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    for code in ("milano", "torino"):
        if not Location.objects.filter(brand=brand, code=code).exists():
            Location.objects.create(brand=brand, name=code.title(), code=code, path=f"{code}/")
    user, _ = User.objects.get_or_create(email="bench@example.test")
    membership, _ = Membership.objects.get_or_create(
        brand=brand, user=user, defaults={"role": Role.OWNER}
    )
    actor = Actor(user=user, brand=brand, membership=membership)
    begin = time.perf_counter()
    run, _state = services.import_run_create(
        actor=actor, path=path, mapping=ready_mapping("reviews"), again=True
    )
    run = services.import_run_execute(run_id=run.pk)
    return time.perf_counter() - begin, run.rows_read


if __name__ == "__main__":
    main()
