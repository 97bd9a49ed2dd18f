"""What the base layout needs on every page: the user's brands and the current scope."""

from opencx.platform.selectors import brands_of


def shell(request) -> dict:
    actor = getattr(request, "actor", None)
    context = {"actor": actor, "current_brand": actor.brand if actor else None}
    if request.user.is_authenticated:
        context["user_brands"] = brands_of(user=request.user)
    if actor is not None:
        context["switchable_locations"] = getattr(request, "switchable_locations", ())
        context["current_location"] = getattr(request, "current_location", None)
    return context
