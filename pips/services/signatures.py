"""Signatures on a version in force: the manager's at issue, the employee's (or a witnessed
refusal) and HR's; the third one makes the plan active."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from pips import languages, limits, rules
from pips.audit import AuditAction
from pips.inputs import (
    NO_META,
    RequestMeta,
    SignatureInput,
    image_problem,
)
from pips.models import (
    Pip,
    PipVersion,
    Signature,
    SignerRole,
    Status,
    VersionState,
)
from pips.rules import full_name_matches
from pips.services.common import (
    TransitionError,
    lock,
    require,
    require_state,
    transition,
    write_audit,
)
from pips.services.schedule import schedule_write

# Why a signature is refused: the signer does not hold the role, or the one before has not signed.
SIGNER_REFUSALS = {
    SignerRole.AGENT: gettext_lazy("Only the employee can sign as employee."),
    SignerRole.MANAGER: gettext_lazy("Only the plan's supervisor signs as manager."),
    SignerRole.HR: gettext_lazy("Only HR can countersign."),
}
OUT_OF_ORDER = {
    SignerRole.AGENT: gettext_lazy("The manager signs first, when the plan is issued."),
    SignerRole.HR: gettext_lazy("HR countersigns after the employee's acknowledgment."),
}


def signature_write(
    *, actor, pip: Pip, version: PipVersion, role: str, data: SignatureInput, meta
) -> Signature:
    errors = {}
    if not data.consent:
        errors["consent"] = _("Tick the box to agree to sign electronically.")
    if not full_name_matches(data.typed_name, actor):
        errors["typed_name"] = rules.typed_name_message(actor)
    if data.agrees is False and not data.comments.strip():
        errors["comments"] = _("Say what you disagree with.")
    elif len(data.comments.strip()) > limits.MEDIUM_TEXT:
        errors["comments"] = limits.too_long_message(limits.MEDIUM_TEXT, len(data.comments.strip()))
    if problem := image_problem(data.image):
        errors["image"] = problem
    language = languages.normalise(data.language or languages.current_language())
    if language is None:
        errors["consent"] = _("The consent statement was shown in a language we do not have.")
    if errors:
        raise ValidationError(errors)
    if version.signatures.filter(role=role).exists():
        raise TransitionError(
            _("The %(role)s has already signed.") % {"role": str(SignerRole(role).label).lower()}
        )
    meta = meta or NO_META
    try:
        with transaction.atomic():
            sig = Signature.objects.create(
                version=version,
                role=role,
                signer=actor,
                typed_name=data.typed_name.strip(),
                image=data.image,
                consent_text=languages.consent_text(language),
                consent_language=language,
                agrees=data.agrees if role == SignerRole.AGENT else None,
                comments=data.comments.strip(),
                ip_address=meta.ip_address,
                user_agent=(meta.user_agent or "")[:400],
                content_sha256=version.content_sha256,
            )
    except IntegrityError:
        raise TransitionError(_("This signature has already been given.")) from None
    write_audit(
        pip=pip,
        actor=actor,
        action=AuditAction.SIGNED,
        meta=meta,
        version=version,
        changes={
            "role": role,
            "agrees": sig.agrees,
            "sha256": version.content_sha256,
            "consent_language": language,
        },
        comment=sig.comments,
    )
    return sig


def _roles_signed(version: PipVersion) -> set[str]:
    return set(version.signatures.values_list("role", flat=True))


def _signable_version(pip: Pip, version: PipVersion) -> None:
    if version.pip_id != pip.pk:
        raise TransitionError(_("That version belongs to another plan."))
    if version.state != VersionState.ISSUED:
        raise TransitionError(
            _("Version %(number)s is %(state)s; only the version in force can be signed.")
            % {"number": version.number, "state": str(version.get_state_display()).lower()}
        )


def _maybe_activate(*, actor, pip: Pip, version: PipVersion, meta) -> None:
    if _roles_signed(version) >= {SignerRole.MANAGER, SignerRole.AGENT, SignerRole.HR}:
        if pip.status == Status.ISSUED:
            transition(
                pip,
                actor=actor,
                to=Status.ACTIVE,
                action=AuditAction.ACTIVATED,
                meta=meta,
                activated_at=timezone.now(),
            )
            schedule_write(pip=pip)
        else:
            write_audit(
                pip=pip,
                actor=actor,
                action=AuditAction.AMENDMENT_ACKNOWLEDGED,
                meta=meta,
                version=version,
            )


def signature_add(
    *,
    actor,
    pip: Pip,
    version: PipVersion,
    role: str,
    data: SignatureInput,
    meta: RequestMeta | None = None,
) -> Signature:
    """Sign a version as manager, employee or HR. The manager signs at issue, the employee
    acknowledges, HR countersigns; the plan becomes active when all three are present."""
    with transaction.atomic():
        pip = lock(pip)
        version = PipVersion.objects.get(pk=version.pk)
        if role not in SIGNER_REFUSALS:
            raise ValidationError({"role": _("Unknown signer role.")})
        if role == SignerRole.HR:
            # HR, and not on their own work: refused with the reason (separation of duties).
            require(rules.is_hr(actor), SIGNER_REFUSALS[role])
            conflict = rules.hr_conflict(actor, pip, version)
            require(not conflict, conflict)
        else:
            require(rules.may_sign_as(actor, pip, role), SIGNER_REFUSALS[role])
        require_state(pip, rules.SIGNABLE, gettext("sign"))
        _signable_version(pip, version)
        signed = _roles_signed(version)
        before = rules.SIGNS_AFTER[role]
        if before is not None and before not in signed:
            raise TransitionError(str(OUT_OF_ORDER[role]))
        sig = signature_write(
            actor=actor, pip=pip, version=version, role=role, data=data, meta=meta
        )
        _maybe_activate(actor=actor, pip=pip, version=version, meta=meta)
    return sig


def refusal_record(
    *,
    actor,
    pip: Pip,
    witness,
    note: str,
    meta: RequestMeta | None = None,
) -> Signature:
    """The employee refused to sign: the supervisor records it with a witness, which completes
    the acknowledgment step."""
    if witness is None or witness.pk in (actor.pk, pip.agent.user_id):
        raise ValidationError(
            {"witness": _("The witness must be another person, not the employee.")}
        )
    if not note.strip():
        raise ValidationError({"note": _("Describe what happened.")})
    with transaction.atomic():
        pip = lock(pip)
        require(
            rules.is_plan_supervisor(actor, pip),
            gettext("Only the plan's supervisor records a refusal."),
        )
        require_state(pip, rules.SIGNABLE, gettext("record a refusal on"))
        version = pip.current_version
        _signable_version(pip, version)
        signed = _roles_signed(version)
        if SignerRole.AGENT in signed:
            raise TransitionError(_("The employee's acknowledgment is already recorded."))
        if not rules.signature_due(SignerRole.AGENT, signed):
            raise TransitionError(str(OUT_OF_ORDER[SignerRole.AGENT]))
        meta = meta or NO_META
        employee_language = languages.language_of_employee(pip.agent)
        try:
            with transaction.atomic():
                sig = Signature.objects.create(
                    version=version,
                    role=SignerRole.AGENT,
                    kind=Signature.Kind.REFUSED,
                    signer=actor,
                    typed_name=actor.get_full_name(),
                    # Nothing was signed: the statement the employee would have been shown.
                    consent_text=languages.consent_text(employee_language),
                    consent_language=employee_language,
                    comments=note.strip(),
                    witness=witness,
                    ip_address=meta.ip_address,
                    user_agent=(meta.user_agent or "")[:400],
                    content_sha256=version.content_sha256,
                )
        except IntegrityError:
            raise TransitionError(_("The employee's acknowledgment is already recorded.")) from None
        write_audit(
            pip=pip,
            actor=actor,
            action=AuditAction.REFUSAL_RECORDED,
            meta=meta,
            version=version,
            comment=note.strip(),
            changes={"witness": witness.get_full_name()},
        )
    return sig
