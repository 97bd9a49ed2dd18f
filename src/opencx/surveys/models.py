"""Survey definitions and the responses to them (the collection flow grows here)."""

from django.db import models
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
    kind = models.CharField(max_length=8, choices=Kind.choices)
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.SET_NULL)
    default_language = models.CharField(max_length=8, default="en")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    """One question; its scale, direction and satisfied set are stored, never assumed."""

    class Kind(models.TextChoices):
        NPS = "nps", "NPS (0–10)"
        CSAT = "csat", "CSAT"
        CES = "ces", "CES"
        RATING = "rating", "Rating"
        TEXT = "text", "Open text"

    class Polarity(models.TextChoices):
        HIGHER_IS_BETTER = "higher_better", "Higher is better"
        LOWER_IS_BETTER = "lower_better", "Lower is better"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    text = models.JSONField(help_text="Language code to question text")
    scale_min = models.SmallIntegerField(null=True, blank=True)
    scale_max = models.SmallIntegerField(null=True, blank=True)
    polarity = models.CharField(
        max_length=16, choices=Polarity.choices, default=Polarity.HIGHER_IS_BETTER
    )
    satisfied_values = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]


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
    is_partial = models.BooleanField(default=False)
    # Denormalised headline answers: most reads want just these.
    score = models.SmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "created_at"]),
            models.Index(fields=["location", "created_at"]),
        ]


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    score = models.SmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="one_answer_per_question")
        ]
