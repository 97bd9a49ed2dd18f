from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "opencx.demo"
    label = "demo"
