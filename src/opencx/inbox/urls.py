from django.urls import path

from . import live_views, views, web_chat_views
from .organise_urls import urlpatterns as organise_routes

app_name = "inbox"
urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("<int:pk>/", views.conversation_detail, name="detail"),
    path("live/", live_views.queue_state, name="live_queue"),
    path("<int:pk>/live/", live_views.conversation_updates, name="live_conversation"),
    path("web-chat/", web_chat_views.web_chats, name="web_chats"),
]
urlpatterns += organise_routes  # canned replies, labels, teams, views, bulk, merge
