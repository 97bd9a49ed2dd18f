"""`{% load survey_builder %}`: whether the member may change surveys (to show builder links)."""

from django import template

from opencx.platform.roles import Capability

register = template.Library()


@register.filter
def may_build_surveys(actor) -> bool:
    return bool(actor) and actor.can(Capability.MANAGE_FEEDBACK)
