from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "opencx.api"
    label = "api"
