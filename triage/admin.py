from django.contrib import admin

from .models import Activity, Occurrence, Service, Team, TriageItem


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "team", "created_at"]
    list_filter = ["team"]
    search_fields = ["slug", "name"]


class ActivityInline(admin.TabularInline):
    model = Activity
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "actor", "actor_label", "verb", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TriageItem)
class TriageItemAdmin(admin.ModelAdmin):
    list_display = ["short_id", "title", "service", "level", "status", "event_count", "last_seen"]
    list_filter = ["status", "level", "service"]
    search_fields = ["sentry_issue_id", "short_id", "title", "culprit"]
    list_select_related = ["service"]
    raw_id_fields = ["service", "runbook", "runbook_version"]  # thousands of runbooks: no select of them all
    inlines = [ActivityInline]


@admin.register(Occurrence)
class OccurrenceAdmin(admin.ModelAdmin):
    list_display = ["event_id", "item", "timestamp", "environment", "release"]
    list_select_related = ["item"]
    raw_id_fields = ["item"]
    search_fields = ["event_id"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["created_at", "item", "verb", "actor", "actor_label"]
    list_filter = ["verb"]
    list_select_related = ["item", "actor"]
    raw_id_fields = ["item", "actor"]

    def has_change_permission(self, request, obj=None):
        return False
