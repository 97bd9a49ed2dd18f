from django.urls import path

from . import views

app_name = "insights"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("insights/", views.insights, name="insights"),
    path("insights/responses/", views.responses, name="responses"),
]
