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
    # Keep connections between requests: opening one (and, on SQLite, running the PRAGMAs
    # above) costs more than a typical request's queries.
    config.setdefault("CONN_MAX_AGE", 60)
    config.setdefault("CONN_HEALTH_CHECKS", True)
    return {"default": config}
