"""URL map. Pages inside a brand live under /b/<brand_slug>/; each app owns its own urls.py."""

from django.contrib import admin
from django.urls import include, path

from opencx.api.urls import api_urls
from opencx.ui import views as ui_views

brand_urls = [
    path("", include("opencx.insights.urls")),
    path("", include("opencx.ui.urls")),
    path("surveys/", include("opencx.surveys.urls")),
    path("feedback/", include("opencx.feedback.urls")),
    path("inbox/", include("opencx.inbox.urls")),
    path("cases/", include("opencx.cases.urls")),
    path("alerts/", include("opencx.insights.alert_urls")),
    path("insights/inbox/", include("opencx.insights.inbox_report_urls")),
    path("labels/", include("opencx.insights.correction_urls")),
    path("topics/", include("opencx.insights.topic_urls")),
    path("playbooks/", include("opencx.offers.urls")),
    path("customers/", include("opencx.contacts.urls")),
    path("locations/", include("opencx.platform.location_urls")),
    path("settings/integrations/", include("opencx.integrations.urls")),
    path("settings/text/", include("opencx.insights.taxonomy_urls")),
    path("settings/", include("opencx.platform.settings_urls")),
]

urlpatterns = [
    path("", ui_views.home, name="home"),
    path("healthz", ui_views.healthz, name="healthz"),
    path("readyz", ui_views.readyz, name="readyz"),
    path("accounts/", include("opencx.platform.account_urls")),
    path("b/<slug:brand_slug>/", include(brand_urls)),
    path("s/", include("opencx.surveys.public_urls")),
    path("o/", include("opencx.offers.public_urls")),
    path("hooks/inbox/", include("opencx.inbox.channel_webhook_urls")),
    path("widget/", include("opencx.inbox.widget_urls")),
    path("api/v1/", api_urls),
    path("django-admin/", admin.site.urls),
]
