from django.urls import path

from . import views

app_name = "offers"
urlpatterns = [
    path("", views.playbook_list, name="list"),
    path("new/", views.playbook_new, name="new"),
    path("<int:pk>/", views.playbook_edit, name="edit"),
    path("pools/", views.pools, name="pools"),
    path("pools/<int:pk>/generate/", views.pool_generate, name="pool-generate"),
    path("pools/<int:pk>/upload/", views.pool_upload, name="pool-upload"),
    path("redemptions/", views.redemptions, name="redemptions"),
    path("outcomes/", views.outcomes, name="outcomes"),
]
