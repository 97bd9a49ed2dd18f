from django.shortcuts import render

from opencx.ui.brand_views import brand_page


@brand_page
def brand_settings(request):
    return render(request, "platform/brand_settings.html", {})
