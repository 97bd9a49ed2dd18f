"""A share shown with its base: "42.0% (n = 50)", or "— (n = 0)" when there is no base."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def rate(value) -> str:
    if value.pct is None:
        return format_html('— <small class="n">(n = {})</small>', 0)
    return format_html(
        '{}% <small class="n">({} of n = {})</small>', f"{value.pct:.1f}", value.count, value.n
    )


@register.filter
def moved(outcome, segment: str):
    return outcome.moved_to(segment)
