from django.urls import path

from . import sync_views, views

app_name = "integrations"
urlpatterns = [
    path("sentry/webhook/", views.sentry_webhook, name="sentry-webhook"),
    path("sentry/legacy/<str:token>/", views.sentry_legacy_webhook, name="sentry-legacy-webhook"),
    path("sentry/sync/<int:item_id>/retry/", sync_views.sentry_sync_retry, name="sentry-sync-retry"),
]
