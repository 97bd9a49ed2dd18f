"""Survey definitions, their distribution (links, invitations) and the responses to them."""

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from opencx.contacts.models import Contact
from opencx.platform.models import Brand, Channel, Location, Touchpoint


class Survey(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", "NPS"
        CSAT = "csat", "CSAT"
        CES = "ces", "CES"
        CUSTOM = "custom", "Custom"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="surveys")
    name = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=80, help_text="Stable key for YAML/JSON import-export (unique per brand)"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.SET_NULL)
    default_language = models.CharField(max_length=8, default="en")
    languages = models.JSONField(
        default=list, blank=True, help_text="Languages the author translated the texts into"
    )
    # Language code to text; the interface strings around them come from the shipped translations.
    intro = models.JSONField(default=dict, blank=True)
    thank_you = models.JSONField(default=dict, blank=True)
    invitation_subject = models.JSONField(default=dict, blank=True)
    invitation_body = models.JSONField(
        default=dict, blank=True, help_text="Placeholders: {name} {brand} {location} {link}"
    )
    sms_body = models.JSONField(default=dict, blank=True)
    # Promoters (headline score at or above this) are invited to review the location publicly.
    review_invite_min = models.SmallIntegerField(null=True, blank=True)
    reminder_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Remind an unanswered invitation after this many days"
    )
    quota = models.PositiveIntegerField(
        null=True, blank=True, help_text="Stop accepting after this many complete responses"
    )
    template = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "slug"], name="survey_slug_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def all_languages(self) -> list[str]:
        """The default language first, then the others the author translated into."""
        rest = [code for code in self.languages or () if code != self.default_language]
        return [self.default_language, *rest]


class Question(models.Model):
    """One question; its scale, direction and satisfied set are stored, never assumed."""

    class Kind(models.TextChoices):
        NPS = "nps", "NPS (0–10)"
        CSAT = "csat", "CSAT"
        CES = "ces", "CES"
        RATING = "rating", "Rating"
        SINGLE = "single", "Single choice"
        MULTIPLE = "multiple", "Multiple choice"
        TEXT = "text", "Open text"
        CONSENT = "consent", "Permission to contact"

    class Polarity(models.TextChoices):
        HIGHER_IS_BETTER = "higher_better", "Higher is better"
        LOWER_IS_BETTER = "lower_better", "Lower is better"

    SCALED_KINDS = frozenset({"nps", "csat", "ces", "rating"})
    CHOICE_KINDS = frozenset({"single", "multiple"})

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=40, help_text="Stable key within the survey")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    text = models.JSONField(help_text="Language code to question text")
    # [{"value": "price", "label": {"en": "Price", "it": "Prezzo"}}, ...] for choice questions.
    options = models.JSONField(default=list, blank=True)
    # Point (as a string) to {language: label}, e.g. {"1": {"en": "Very unsatisfied"}}.
    scale_labels = models.JSONField(default=dict, blank=True)
    # Branching: {"question": "<key>", "min": 0, "max": 6} shows this question only when that
    # question's score lies in [min, max]; empty means always shown.
    show_if = models.JSONField(default=dict, blank=True)
    scale_min = models.SmallIntegerField(null=True, blank=True)
    scale_max = models.SmallIntegerField(null=True, blank=True)
    polarity = models.CharField(
        max_length=16, choices=Polarity.choices, default=Polarity.HIGHER_IS_BETTER
    )
    satisfied_values = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="question_key_unique")
        ]

    @property
    def is_scaled(self) -> bool:
        return self.kind in self.SCALED_KINDS

    def text_in(self, language: str, fallback: str) -> str:
        texts = self.text or {}
        return texts.get(language) or texts.get(fallback) or next(iter(texts.values()), "")


class SurveyLink(models.Model):
    """A public link (and its QR code) for one survey × location × touchpoint × channel."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="survey_links")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="links")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="survey_links")
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.CASCADE)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE)
    token = models.CharField(max_length=32, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # "No touchpoint" must collide with "no touchpoint": NULLs are made 0 for the index
            # (nulls_distinct=False is not available on SQLite).
            models.UniqueConstraint(
                F("survey"),
                F("location"),
                Coalesce(F("touchpoint"), Value(0)),
                Coalesce(F("channel"), Value(0)),
                name="one_link_per_placement",
            )
        ]


class Invitation(models.Model):
    """A personal invitation to one contact; its token opens the survey once."""

    class Via(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        RESPONDED = "responded", "Responded"
        SKIPPED = "skipped", "Skipped"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="invitations")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="invitations")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="invitations")
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL)
    via = models.CharField(max_length=8, choices=Via.choices)
    address = models.CharField(max_length=254, help_text="E-mail address or E.164 phone")
    language = models.CharField(max_length=8)
    # Random and unique; the link carries it signed, so a guessed or altered token is refused.
    nonce = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    skip_reason = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["contact", "sent_at"])]


class SurveyOptOut(models.Model):
    """A contact who unsubscribed from the brand's surveys (honoured by every invitation)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE)
    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="survey_opt_out")
    created_at = models.DateTimeField(default=timezone.now)


class SurveyPolicy(models.Model):
    """Brand-wide collection rules: how often one contact may be asked, across all surveys."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="survey_policy")
    fatigue_days = models.PositiveSmallIntegerField(
        default=30, help_text="A contact is invited at most once in this many days"
    )


class Response(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="responses")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="responses")
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    is_partial = models.BooleanField(default=False)
    # A partial response nobody added to for SURVEY_ABANDON_MINUTES: given up on, and acted on
    # with what it has (responses_abandon_stale). It may still be finished later.
    abandoned_at = models.DateTimeField(null=True, blank=True)
    link = models.ForeignKey(
        SurveyLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    # One response per invitation, enforced by the database.
    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    # Denormalised headline answers: most reads want just these.
    score = models.SmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    contact_permission = models.BooleanField(null=True, blank=True)
    review_clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "created_at"]),
            models.Index(fields=["location", "created_at"]),
            # The few partial responses still open, for the periodic look for abandoned ones.
            models.Index(
                fields=["updated_at"],
                condition=models.Q(is_partial=True, abandoned_at__isnull=True),
                name="response_partial_open",
            ),
        ]


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    score = models.SmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    choices = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="one_answer_per_question")
        ]
