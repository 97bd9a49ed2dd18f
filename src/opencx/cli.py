"""The `opencx` command: `opencx serve`, `opencx demo`, and every Django management command.

`opencx metrics ...` is the analytics library's own command: it runs without Django (no settings,
no database), so it works on any CSV or Parquet file (see `opencx metrics --help`). Likewise
`opencx text analyze` for text analytics (see `opencx text analyze --help`); `opencx text retrain`
is the Django command `text_retrain` (a brand's sentiment adapter, from its database).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["metrics"]:
        from opencx.analytics.cli import main as metrics_main

        sys.exit(metrics_main(args[1:]))
    if args[:2] == ["text", "retrain"]:
        args = ["text_retrain", *args[2:]]  # needs the database: a Django management command
    elif args[:1] == ["text"]:
        from opencx.analytics.cli_text import main as text_main

        sys.exit(text_main(args[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opencx.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["opencx", *args])


if __name__ == "__main__":
    main()
