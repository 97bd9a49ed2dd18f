"""DATABASE_URL, defaulting to an SQLite file in WAL mode under the data directory."""

from pathlib import Path

from .environment import env


def databases(directory: Path) -> dict:
    default_url = f"sqlite:///{directory / 'opencx.sqlite3'}"
    config = env.db_url("DATABASE_URL", default=default_url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {})
        # WAL lets readers run beside the writer; IMMEDIATE avoids "database is locked" on upgrade.
        config["OPTIONS"].update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            }
        )
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Parameters bound by the server let psycopg prepare the statements a process repeats
        # (the inbox's receive path, the survey submit): less parsing and planning on both
        # sides (bench/inbox_load.py: 15 -> 13 ms of CPU per message). Off for a pooler that
        # cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault(
            "server_side_binding", env.bool("DATABASE_SERVER_SIDE_BINDING", default=True)
        )
    # Keep connections between requests: opening one (and, on SQLite, running the PRAGMAs
    # above) costs more than a typical request's queries.
    config.setdefault("CONN_MAX_AGE", 60)
    config.setdefault("CONN_HEALTH_CHECKS", True)
    return {"default": config}
