from __future__ import annotations

from django.urls import path

from pipsystem.identity import scim, views

app_name = "identity"

urlpatterns = [
    # Single sign-on: the redirect to the provider and its way back (404 while not set up).
    path("oidc/authenticate/", views.sso_start, name="oidc_authentication_init"),
    path("oidc/callback/", views.sso_callback, name="oidc_authentication_callback"),
    path("accounts/invitation/<int:pk>/<str:token>/", views.invitation, name="invitation"),
    path("accounts/sso/refused/", views.sso_refused, name="sso_refused"),
    path("accounts/two-factor/setup/", views.twofactor_setup, name="twofactor_setup"),
    path("accounts/two-factor/", views.twofactor_verify, name="twofactor_verify"),
    path("accounts/two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("scim/v2/Users", scim.users, name="scim_users"),
    path("scim/v2/Users/<uuid:scim_id>", scim.user, name="scim_user"),
    path("scim/v2/Groups", scim.groups, name="scim_groups"),
    path("scim/v2/Groups/<uuid:scim_id>", scim.group, name="scim_group"),
    path(
        "scim/v2/ServiceProviderConfig",
        scim.service_provider_config,
        name="scim_service_provider_config",
    ),
    path("scim/v2/ResourceTypes", scim.resource_types, name="scim_resource_types"),
    path("scim/v2/Schemas", scim.schemas, name="scim_schemas"),
]
