"""Public survey pages, mounted at /s/: no login, hostile input assumed."""

from django.urls import path

from . import invitation_views, public_views

app_name = "survey_public"
urlpatterns = [
    path("i/<str:token>/", public_views.invitation_start, name="invitation"),
    path("r/<str:ref>/<int:page>/", public_views.step, name="step"),
    path("r/<str:ref>/done/", public_views.done, name="done"),
    path("r/<str:ref>/review/", public_views.review, name="review"),
    path("u/<str:token>/", invitation_views.unsubscribe, name="unsubscribe"),
    path("<str:token>/", public_views.link_start, name="start"),
    path("<str:token>/qr.<str:fmt>", public_views.qr_code, name="qr"),
    path("<str:token>/embed.js", public_views.embed_script, name="embed"),
]
