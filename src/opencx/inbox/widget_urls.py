"""The web chat widget's public endpoints, mounted at /widget/: the key names the chat."""

from django.urls import path

from . import widget_views

app_name = "widget"
urlpatterns = [
    path("<str:key>/config/", widget_views.config_view, name="config"),
    path("<str:key>/session/", widget_views.session_start, name="session"),
    path("<str:key>/messages/", widget_views.messages_view, name="messages"),
    path("<str:key>/identify/", widget_views.identify_view, name="identify"),
    path("<str:key>/demo/", widget_views.demo_page, name="demo"),
]
