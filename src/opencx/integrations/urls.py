from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("", views.webhook_list, name="list"),
    path("new/", views.webhook_new, name="new"),
    path("<int:pk>/", views.webhook_edit, name="endpoint"),
    path("<int:pk>/delete/", views.webhook_delete, name="endpoint-delete"),
    path("<int:pk>/rotate-secret/", views.webhook_rotate, name="endpoint-rotate"),
    path("<int:pk>/test/", views.webhook_ping, name="endpoint-test"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery-replay"),
    path("notifications/", views.my_notifications, name="notifications"),
]
