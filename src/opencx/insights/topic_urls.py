from django.urls import path

from . import topic_views

app_name = "topics"
urlpatterns = [
    path("", topic_views.topic_overview, name="topics"),
]
