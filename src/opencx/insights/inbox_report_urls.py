from django.urls import path

from . import inbox_report_views

app_name = "inbox_report"
urlpatterns = [
    path("", inbox_report_views.report, name="report"),
]
