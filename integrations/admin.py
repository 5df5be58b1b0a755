from django.contrib import admin, messages

from . import services
from .models import SentrySync, SyncCursor, WebhookDelivery
from .sentry_sync import sync_retry


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "received_at",
        "source",
        "resource",
        "action",
        "sentry_issue_id",
        "status",
        "attempts",
    ]
    list_filter = ["status", "source", "resource"]
    search_fields = ["sentry_issue_id", "request_id", "dedupe_key", "body_sha256"]
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


@admin.register(SentrySync)
class SentrySyncAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "item", "change", "state", "attempts", "sent_at"]
    list_filter = ["state"]
    search_fields = ["item__sentry_issue_id", "item__short_id"]
    list_select_related = ["item"]
    readonly_fields = [f.name for f in SentrySync._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Queue the failed changes of the selected items again")
    def retry(self, request, queryset):
        item_ids = set(queryset.filter(state=SentrySync.State.FAILED).values_list("item_id", flat=True))
        queued = sum(len(sync_retry(item_id=item_id, actor_id=request.user.pk)) for item_id in item_ids)
        self.message_user(request, f"Queued {queued} changes for Sentry again.", messages.SUCCESS)


@admin.register(SyncCursor)
class SyncCursorAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "window_start", "window_end", "page", "lease_until", "updated_at"]
    readonly_fields = [f.name for f in SyncCursor._meta.fields]

    def has_add_permission(self, request):
        return False
