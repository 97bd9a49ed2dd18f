from django.urls import path

from . import import_views, views

app_name = "feedback"
urlpatterns = [
    path("", views.feedback_list, name="list"),
    path("<int:pk>/", views.feedback_detail, name="detail"),
    path("imports/", import_views.import_list, name="imports"),
    path("imports/<int:pk>/", import_views.import_detail, name="import"),
    path("imports/<int:pk>/retry/", import_views.import_retry, name="import-retry"),
    path("imports/<int:pk>/quarantine/", import_views.import_quarantine, name="import-quarantine"),
    path(
        "quarantine/<int:pk>/retry/",
        import_views.quarantined_row_retry,
        name="quarantine-retry",
    ),
    path(
        "quarantine/<int:pk>/discard/",
        import_views.quarantined_row_discard,
        name="quarantine-discard",
    ),
    path("webhooks/", import_views.webhook_source_list, name="webhooks"),
    path("webhooks/<int:pk>/rotate/", import_views.webhook_source_rotate, name="webhook-rotate"),
    path("webhooks/<int:pk>/delete/", import_views.webhook_source_delete, name="webhook-delete"),
]
