from django.contrib import admin

from pips import models


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are never edited or deleted: shown, not changed."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "timezone"]
    search_fields = ["name", "department"]


@admin.register(models.Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["full_name", "employee_id", "team", "supervisor", "user", "is_active"]
    list_filter = ["team", "is_active"]
    search_fields = ["full_name", "employee_id", "email"]
    list_select_related = ["team", "supervisor", "user"]
    raw_id_fields = ["user", "supervisor"]


class TemplateReasonInline(admin.TabularInline):
    model = models.TemplateReason
    extra = 0


class TemplateExpectationInline(admin.TabularInline):
    model = models.TemplateExpectation
    extra = 0


class TemplateActionInline(admin.TabularInline):
    model = models.TemplateAction
    extra = 0


@admin.register(models.Profile)
class ProfileAdmin(admin.ModelAdmin):
    """Each person's language (blank: the organisation's); people set it on their profile."""

    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]


@admin.register(models.PipTemplate)
class PipTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "period_days", "is_default", "is_active"]
    list_filter = ["language", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TemplateReasonInline, TemplateExpectationInline, TemplateActionInline]


@admin.register(models.Pip)
class PipAdmin(ReadOnlyAdmin):
    """Plans change only through their lifecycle (the services); the admin shows them."""

    list_display = ["reference", "agent", "supervisor", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["agent__full_name", "agent__employee_id"]
    list_select_related = ["agent", "supervisor"]


@admin.register(models.PipVersion)
class PipVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "state", "period_start", "period_end", "content_sha256"]
    list_select_related = ["pip"]


@admin.register(models.Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["version", "role", "kind", "typed_name", "signed_at", "ip_address"]
    list_select_related = ["version", "version__pip"]


@admin.register(models.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "pip", "actor", "action", "from_status", "to_status", "ip_address"]
    list_filter = ["action"]
    list_select_related = ["pip", "actor"]


@admin.register(models.CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ["pip", "held_on", "state", "recorded_by"]


@admin.register(models.Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["pip", "kind", "state", "due_on", "outcome"]
