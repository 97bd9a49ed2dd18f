from django.urls import path

from . import agents_views, live_views, settings_views, views, web_chat_views
from .organise_urls import urlpatterns as organise_routes

app_name = "inbox"
urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("<int:pk>/", views.conversation_detail, name="detail"),
    path("live/", live_views.queue_state, name="live_queue"),
    path("<int:pk>/live/", live_views.conversation_updates, name="live_conversation"),
    path("agents/", agents_views.agents_page, name="agents"),
    path("agents/me/", agents_views.my_status, name="my-status"),
    path("agents/<int:user_id>/", agents_views.agent_status, name="agent-status"),
    path("web-chat/", web_chat_views.web_chats, name="web_chats"),
    path("settings/", settings_views.inbox_list, name="settings"),
    path("settings/<int:pk>/", settings_views.inbox_detail, name="inbox-settings"),
]
urlpatterns += organise_routes  # canned replies, labels, teams, views, bulk, merge
