from django.contrib import admin

from .models import Preference


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "language", "time_zone", "updated_at")
    list_filter = ("language",)
    search_fields = ("user__username", "time_zone")
    raw_id_fields = ("user",)
