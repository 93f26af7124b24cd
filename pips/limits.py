"""How long each kind of free text may be. One table for forms (which show the limit as the
user types and refuse what is over it), services (which refuse it too, for every caller) and
the database (a CheckConstraint per column), so a text is never cut short anywhere: it is
accepted whole or refused with a message at its field.

The sizes are generous for what people write on a plan and small enough that a page, an e-mail
or a PDF copy stays quick to produce."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db.models import CheckConstraint
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

#: One line: a concern, an action, a standard (the CharFields' own max_length).
SHORT_TEXT = 300
#: A comment, a reason, a change summary, a note, a decision.
MEDIUM_TEXT = 5000
#: A section of the plan (the description, monitoring, outcomes) or a meeting's notes.
LONG_TEXT = 10000


def too_long_message(limit: int, length: int) -> str:
    # The words Django's own forms use, so a message reads the same from a form or a service.
    return f"Ensure this value has at most {limit} characters (it has {length})."


def check(values: Mapping[str, tuple[str | None, int]]) -> None:
    """Refuse texts over their limit: {field: (text, limit)}. One ValidationError naming every
    field that is too long."""
    errors = {
        name: too_long_message(limit, len(text))
        for name, (text, limit) in values.items()
        if text is not None and len(text) > limit
    }
    if errors:
        raise ValidationError(errors)


def constraints(model: str, fields: Mapping[str, int]) -> list[CheckConstraint]:
    """A CheckConstraint per text column: the database refuses what a form would."""
    return [
        CheckConstraint(
            condition=LessThanOrEqual(Length(field), limit),
            name=f"{model}_{field}_length",
        )
        for field, limit in fields.items()
    ]
