from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "opencx.contacts"
    label = "contacts"
