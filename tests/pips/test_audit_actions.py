"""The audit actions are declared once (pips.audit.AuditAction): every handler, label and write
names a real one, so a misspelt name fails loudly instead of never matching."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pips.audit import ACCESS_ACTIONS, AUDIT_LABELS, AuditAction
from pips.notifications.handlers import HANDLERS, handles

ROOT = Path(__file__).resolve().parents[2]


def test_the_values_are_the_stored_strings():
    # The enum changed no data: these are the strings already in AuditEvent.action.
    assert AuditAction.SIGNED == "signed"
    assert AuditAction("amendment_acknowledged") is AuditAction.AMENDMENT_ACKNOWLEDGED
    # 31, and the two of people moving or leaving (reassigned, employment_ended).
    assert len(set(AuditAction)) == len({a.value for a in AuditAction}) == 33


def test_every_handler_and_label_is_a_real_action():
    assert HANDLERS, "the handlers are registered at import"
    assert set(HANDLERS) <= set(AuditAction)
    assert all(isinstance(action, AuditAction) for action in HANDLERS)
    assert set(AUDIT_LABELS) <= set(AuditAction)
    assert set(ACCESS_ACTIONS) == {AuditAction.VIEWED, AuditAction.DOWNLOADED}


def test_a_misspelt_handler_fails_at_import():
    with pytest.raises(ValueError, match="signd"):
        handles("signd")(lambda event: None)
    assert "signd" not in HANDLERS


# Calls that write or look up audit events by action.
AUDIT_CALLS = {"write_audit", "transition", "_audit", "pip_viewed", "filter", "exclude", "Q"}


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _action_arguments(path: Path) -> list[tuple[int, ast.expr]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) in AUDIT_CALLS:
            for keyword in node.keywords:
                if keyword.arg in ("action", "what", "action__in"):
                    found.append((node.lineno, keyword.value))
    return found


def test_the_code_names_actions_through_the_enum():
    """No audit action is written or compared as a bare string in the plan domain."""
    bare = []
    for path in sorted((ROOT / "pips").rglob("*.py")):
        if "migrations" in path.parts or "management" in path.parts:
            continue
        for line, value in _action_arguments(path):
            strings = [
                node.value
                for node in ast.walk(value)
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            ]
            bare += [f"{path.relative_to(ROOT)}:{line}: {s!r}" for s in strings]
    assert bare == []
