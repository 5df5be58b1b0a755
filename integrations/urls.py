from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("sentry/webhook/", views.sentry_webhook, name="sentry-webhook"),
    path("sentry/legacy/<str:token>/", views.sentry_legacy_webhook, name="sentry-legacy-webhook"),
]
