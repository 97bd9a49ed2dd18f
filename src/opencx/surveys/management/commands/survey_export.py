"""`opencx survey_export --brand SLUG --survey SLUG [--format yaml|json] [--output FILE]`.

Writes the survey's definition document (the one `survey_import` and the API take), to
standard output by default, so surveys can live in version control.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opencx.platform.acting import acting_actor, add_actor_arguments
from opencx.surveys.definitions import dump_definition, spec_of
from opencx.surveys.selectors import surveys_visible_to


class Command(BaseCommand):
    help = "Write a survey's definition as YAML or JSON."

    def add_arguments(self, parser):
        add_actor_arguments(parser)
        parser.add_argument("--survey", required=True, help="The survey's slug")
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
        parser.add_argument("--output", type=Path, help="Write to this file (default: stdout)")

    def handle(self, *args, **options):
        actor = acting_actor(brand_slug=options["brand"], email=options["as_email"])
        survey = surveys_visible_to(actor).filter(slug=options["survey"]).first()
        if survey is None:
            raise CommandError(f"No survey with slug {options['survey']!r} in {actor.brand.slug}.")
        text = dump_definition(spec_of(survey), options["format"])
        if options["output"]:
            options["output"].write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {survey.slug} to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
