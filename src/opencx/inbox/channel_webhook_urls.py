"""Public addresses the channel providers call (see `channel_webhooks`): mounted at
`/hooks/inbox/`, outside the brand's pages, with no session."""

from django.urls import path, re_path

from . import channel_webhooks

app_name = "inbox_hooks"

urlpatterns = [
    path("<int:inbox_id>/sms/", channel_webhooks.sms_inbound, name="sms"),
    path("<int:inbox_id>/sms/status/", channel_webhooks.sms_status, name="sms-status"),
    re_path(
        r"^(?P<inbox_id>[0-9]+)/(?P<kind>facebook|instagram)/$",
        channel_webhooks.meta_webhook,
        name="meta",
    ),
    path(
        "<int:inbox_id>/google-reviews/",
        channel_webhooks.google_reviews_push,
        name="google-reviews",
    ),
]
