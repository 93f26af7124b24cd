from __future__ import annotations

from django import template

from pips.roster.selectors import can_sign_in

register = template.Library()


@register.simple_tag
def signs_in_online(agent) -> bool:
    """Whether the employee can sign in today (an account with a password or a past sign-in)."""
    return can_sign_in(agent)
