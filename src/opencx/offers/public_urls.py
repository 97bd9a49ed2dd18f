"""Public pages of playbook e-mails, mounted at /o/: no login, hostile input assumed."""

from django.urls import path

from . import public_views

app_name = "offers_public"
urlpatterns = [
    path("r/<str:token>", public_views.review, name="review"),
    path("f/<str:token>", public_views.referral, name="referral"),
    path("u/<str:token>", public_views.unsubscribe, name="unsubscribe"),
]
