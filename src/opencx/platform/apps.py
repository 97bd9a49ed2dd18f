from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "opencx.platform"
    label = "platform"
    verbose_name = "Platform"
