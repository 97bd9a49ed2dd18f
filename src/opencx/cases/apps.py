from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "opencx.cases"
    label = "cases"
