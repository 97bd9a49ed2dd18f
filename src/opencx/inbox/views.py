from django.shortcuts import render

from opencx.ui.brand_views import brand_page


@brand_page
def index(request):
    return render(request, "inbox/index.html", {})
