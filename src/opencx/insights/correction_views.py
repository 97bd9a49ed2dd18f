"""Pages of label corrections: the panel on a feedback item (fetched by HTMX when the item's
page loads; its forms post back to it) and the brand's accuracy page with its Retrain button.

Whoever may see an item sees its panel; correcting needs REPLY (agents work feedback, viewers
only read); retraining needs MANAGE_FEEDBACK and brand-wide reach, like the other text settings.
Each right is checked before the form is read.
"""

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from opencx.platform.errors import AppError, Forbidden
from opencx.ui.brand_views import brand_page

from . import corrections
from .correction_tasks import retrain_sentiment
from .models import LabelCorrection


def _htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


def _panel(request, pk: int, *, error: AppError | None = None, saved: str = ""):
    labels = corrections.item_labels(request.actor, pk=pk)
    # HTMX fetches the fragment into the feedback page; without JavaScript it is a page.
    template = "_label_correction" if _htmx(request) else "label_correction_page"
    return render(
        request,
        f"insights/{template}.html",
        {
            "labels": labels,
            "item": labels.item,
            "sentiments": corrections.SENTIMENTS,
            "error": error,
            "saved": saved,
        },
    )


@brand_page
def label_panel(request, pk):
    actor = request.actor
    labels = corrections.item_labels(actor, pk=pk)  # 404 before anything else
    if request.method in ("GET", "HEAD"):
        return _panel(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(corrections.CAN_CORRECT)
    field = request.POST.get("field", "")
    value = (
        request.POST.getlist("topics")
        if field == LabelCorrection.Field.TOPICS
        else request.POST.get("sentiment", "")
    )
    try:
        correction = corrections.label_correct(
            actor=actor, item=labels.item, field=field, value=value
        )
    except AppError as error:
        if error.status != 400:
            raise
        if not _htmx(request):
            messages.error(request, error.message)
            return redirect("feedback:detail", actor.brand.slug, pk)
        # 200: HTMX swaps only successful responses, and the panel shows the error.
        return _panel(request, pk, error=error)
    verdict = "confirmed" if correction.corrected == correction.predicted else "corrected"
    saved = f"{correction.get_field_display()} {verdict}. Thank you."
    if not _htmx(request):
        messages.success(request, saved)
        return redirect("feedback:detail", actor.brand.slug, pk)
    return _panel(request, pk, saved=saved)


@brand_page
def label_accuracy(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    actor = request.actor
    accuracy = corrections.label_accuracy(actor)
    return render(
        request,
        "insights/label_accuracy.html",
        {
            "accuracy": accuracy,
            "sentiment": accuracy.sentiment,
            "confusion_rows": list(
                zip(accuracy.sentiment.labels, accuracy.sentiment.confusion, strict=True)
            ),
            "can_retrain": corrections.may_retrain(actor),
            "min_examples": corrections.MIN_RETRAIN_EXAMPLES,
        },
    )


@brand_page
def label_retrain(request):
    actor = request.actor
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor.require(corrections.CAN_RETRAIN)
    if not corrections.may_retrain(actor):
        raise Forbidden("Only members with brand-wide reach may retrain the brand's model.")
    try:
        classes = corrections.retrain_check(corrections.retrain_examples(actor.brand))
    except corrections.RetrainRefused as refused:
        messages.error(request, refused.message)
        return redirect("labels:accuracy", actor.brand.slug)
    brand_id, user_id = actor.brand.pk, actor.user.pk
    transaction.on_commit(lambda: retrain_sentiment.enqueue(brand_id, user_id), robust=True)
    messages.success(
        request,
        f"Retraining on {sum(classes.values())} verdicts has started; the stored comments are "
        "analysed again once it is done.",
    )
    return redirect("labels:accuracy", actor.brand.slug)
