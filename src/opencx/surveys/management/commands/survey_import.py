"""`opencx survey_import --brand SLUG [--as EMAIL] FILE`: create or update a survey from a file.

The file is a definition in YAML or JSON (by its extension; `-` reads YAML or JSON from
standard input). The survey with the document's slug is brought in line with it, or made;
questions that already have answers keep their meaning (see `services.survey_import`).
Errors name the file, the line and the field, and nothing is written.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opencx.platform.acting import acting_actor, add_actor_arguments
from opencx.platform.errors import AppError
from opencx.surveys.definitions import parse_definition
from opencx.surveys.selectors import surveys_visible_to
from opencx.surveys.services import survey_import


class Command(BaseCommand):
    help = "Create or update a survey from a YAML or JSON definition file."

    def add_arguments(self, parser):
        add_actor_arguments(parser)
        parser.add_argument("file", help="The definition (.yaml, .yml or .json; - for stdin)")

    def handle(self, *args, **options):
        actor = acting_actor(brand_slug=options["brand"], email=options["as_email"])
        name = options["file"]
        if name == "-":
            text, fmt, source = sys.stdin.read(), "", "stdin"
        else:
            path = Path(name)
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"{name}: cannot read it ({error}).") from None
            fmt = "json" if path.suffix.lower() == ".json" else "yaml"
            source = path.name
        try:
            spec = parse_definition(text, source=source, fmt=fmt)
            existed = surveys_visible_to(actor).filter(slug=spec.slug).exists()
            survey = survey_import(actor=actor, spec=spec)
        except AppError as error:
            message = error.message
            if not message.startswith(source):  # the service's rules do not know the file
                message = f"{source}: {message}"
            where = f" ({error.field})" if error.field and error.field not in message else ""
            raise CommandError(f"{message}{where}") from None
        verb = "Updated" if existed else "Created"
        self.stdout.write(f"{verb} survey {survey.slug} (id {survey.pk}) in {actor.brand.slug}.")
