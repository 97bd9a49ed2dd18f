from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "opencx.ui"
    label = "ui"
