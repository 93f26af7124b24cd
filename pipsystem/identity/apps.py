from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "pipsystem.identity"
    label = "identity"
    verbose_name = "Sign-in: invitations, single sign-on, SCIM, two-factor"
