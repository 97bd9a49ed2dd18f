from django.shortcuts import render

from opencx.ui.brand_views import brand_page

from .selectors import locations_visible_to


@brand_page
def location_list(request, pk=None):
    locations = locations_visible_to(request.actor)
    return render(request, "platform/location_list.html", {"locations": locations})
