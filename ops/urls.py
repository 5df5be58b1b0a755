from django.urls import path

from . import views

app_name = "ops"
urlpatterns = [
    path("", views.queue_page, name="queue"),
    path("requests/<int:request_id>/", views.request_page, name="request"),
    path("requests/<int:request_id>/<slug:name>/", views.request_action, name="request-action"),
    path(
        "notifications/<int:notification_id>/resend/", views.notification_resend, name="notification-resend"
    ),
    path("items/<int:item_id>/data-fixes/", views.item_file_request, name="item-file"),
]
