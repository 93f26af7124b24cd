from django.contrib import admin

from metrics import models


@admin.register(models.Kpi)
class KpiAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "unit", "direction", "standard", "is_active"]
    list_editable = ["standard", "is_active"]


@admin.register(models.MetricSource)
class MetricSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]


@admin.register(models.MetricLoad)
class MetricLoadAdmin(admin.ModelAdmin):
    list_display = ["created_at", "source", "filename", "status", "rows_total", "rows_loaded"]
    list_filter = ["status", "source"]
    readonly_fields = [f.name for f in models.MetricLoad._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # The record of who loaded what, when, from which file.
        return False
