from django.contrib import admin

from .models import DataFixEvent, DataFixRequest, Notification, NotificationAttempt, TeamPolicy


class EventInline(admin.TabularInline):
    model = DataFixEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "verb", "from_state", "to_state", "note", "data")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DataFixRequest)
class DataFixRequestAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "item",
        "urgency",
        "state",
        "requested_by",
        "created_at",
        "due_at",
        "escalation_level",
    )
    list_filter = ("state", "urgency")
    raw_id_fields = ("item", "runbook", "runbook_version", "requested_by", "acknowledged_by", "closed_by")
    inlines = [EventInline]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("key", "channel", "event", "state", "attempts", "sent_at", "last_error")
    list_filter = ("state", "channel", "event")
    raw_id_fields = ("request",)


@admin.register(NotificationAttempt)
class NotificationAttemptAdmin(admin.ModelAdmin):
    list_display = ("notification", "started_at", "duration_ms", "ok", "error")
    raw_id_fields = ("notification",)


@admin.register(TeamPolicy)
class TeamPolicyAdmin(admin.ModelAdmin):
    list_display = ("team", "auto_resolve_on_done", "escalation_email")
