from django.contrib import admin, messages

from . import services
from .models import WebhookDelivery


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "received_at", "source", "resource", "action", "sentry_issue_id", "status", "attempts"]
    list_filter = ["status", "source", "resource"]
    search_fields = ["sentry_issue_id", "request_id", "dedupe_key"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields if f.name != "body"] + ["body_text"]
    exclude = ["body"]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Replay selected failed deliveries")
    def replay(self, request, queryset):
        ids = list(queryset.filter(status=WebhookDelivery.Status.FAILED).values_list("pk", flat=True))
        services.deliveries_replay(ids=ids)
        self.message_user(request, f"Re-enqueued {len(ids)} failed deliveries.", messages.SUCCESS)
