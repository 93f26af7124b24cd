from __future__ import annotations

from django.contrib import admin

from pips.roster.models import RosterImport, RosterSource


@admin.register(RosterSource)
class RosterSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(RosterImport)
class RosterImportAdmin(admin.ModelAdmin):
    """The record of roster loads: read only, as it is evidence of who changed what."""

    list_display = ("created_at", "source", "status", "origin", "rows_total", "created_by")
    list_filter = ("status", "origin", "source")
    list_select_related = ("source", "created_by")
    exclude = ("changes", "errors")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
