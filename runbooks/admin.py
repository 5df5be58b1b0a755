"""Admin: a read-mostly view. Runbooks are written in the portal's pages (services keep versions immutable
and the matcher index fresh); here admins look, resolve feedback and delete."""

from django.contrib import admin

from .models import Runbook, RunbookFeedback, RunbookMatcher, RunbookUse, RunbookVersion


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VersionInline(ReadOnlyInline):
    model = RunbookVersion
    fields = ["number", "summary", "author", "created_at", "restored_from"]
    fk_name = "runbook"


class MatcherInline(ReadOnlyInline):
    model = RunbookMatcher
    fields = ["group", "field", "op", "value"]


@admin.register(Runbook)
class RunbookAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "team", "updated_at", "last_used_at"]
    list_filter = ["team"]
    search_fields = ["title", "slug"]
    readonly_fields = [
        "slug",
        "title",
        "services",
        "team",
        "tags",
        "current_version",
        "created_at",
        "updated_at",
        "last_used_at",
    ]
    inlines = [MatcherInline, VersionInline]

    def has_add_permission(self, request):
        return False


@admin.register(RunbookFeedback)
class RunbookFeedbackAdmin(admin.ModelAdmin):
    list_display = ["runbook", "kind", "author", "created_at", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["runbook", "version", "kind", "comment", "author", "created_at"]


@admin.register(RunbookUse)
class RunbookUseAdmin(admin.ModelAdmin):
    list_display = ["runbook", "item_ref", "item_title", "version", "linked_at", "decided_at", "helped"]
    list_filter = ["helped"]
    readonly_fields = [f.name for f in RunbookUse._meta.fields]

    def has_add_permission(self, request):
        return False
