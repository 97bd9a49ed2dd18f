"""`opencx text retrain --brand SLUG`: adapt the brand's sentiment model to its verdicts.

Fits the brand's sentiment adapter on the sentiment labels people confirmed or corrected
(`insights.corrections.text_retrain`), stores it and queues the re-analysis of the brand's
stored comments. Prints the examples, the shipped and adapted models' agreement with them.
"""

from django.core.management.base import BaseCommand, CommandError

from opencx.insights.corrections import RetrainRefused, text_retrain
from opencx.platform.models import Brand


def _percent(score) -> str:
    if score is None or score.value is None:
        return "—"
    return f"{score.value:.1f}% (95% interval {score.ci_low:.1f}–{score.ci_high:.1f})"


class Command(BaseCommand):
    help = "Adapt a brand's sentiment model to the labels its people corrected."

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="The brand's slug")

    def handle(self, *args, brand, **options):
        found = Brand.objects.filter(slug=brand).first()
        if found is None:
            raise CommandError(f"No brand with slug {brand}.")
        try:
            result = text_retrain(brand=found)
        except RetrainRefused as refused:
            raise CommandError(refused.message) from None
        classes = ", ".join(f"{label} {n}" for label, n in result.classes.items())
        self.stdout.write(f"{found.slug}: adapted on {result.examples} verdicts ({classes}).")
        self.stdout.write(f"  shipped model agreed with {_percent(result.before)}")
        self.stdout.write(f"  adapted model agrees with {_percent(result.after)} (fitted on them)")
        if result.cross_validated is not None:
            self.stdout.write(
                f"  adapted model, each verdict held out: {_percent(result.cross_validated)}"
            )
        self.stdout.write(
            f"  stored as version {result.version}: the brand's comments are analysed again."
        )
