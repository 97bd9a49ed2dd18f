from django.urls import path

from . import views

app_name = "ui"
urlpatterns = [
    path("switch/", views.switch_scope, name="switch-scope"),
]
