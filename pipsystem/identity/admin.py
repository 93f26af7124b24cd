from __future__ import annotations

from django.contrib import admin

from pipsystem.identity.models import Invitation, ScimClient


@admin.register(ScimClient)
class ScimClientAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "created_at", "last_used_at")
    fields = ("name", "is_active", "created_at", "last_used_at")
    readonly_fields = ("created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False  # made by manage.py scim_client, which shows the token once


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "expires_at", "sent_at", "accepted_at", "revoked_at")
    list_select_related = ("user",)
    readonly_fields = [
        "user",
        "created_by",
        "created_at",
        "expires_at",
        "sent_at",
        "accepted_at",
        "accepted_via",
        "revoked_at",
    ]
    exclude = ("nonce",)

    def has_add_permission(self, request) -> bool:
        return False
