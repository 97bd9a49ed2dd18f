from django.urls import path

from . import views

app_name = "inbox"
urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("<int:pk>/", views.conversation_detail, name="detail"),
]
