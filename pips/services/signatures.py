"""Signatures on a version in force: the manager's at issue, the employee's (or a witnessed
refusal) and HR's; the third one makes the plan active."""

from __future__ import annotations

import base64
import binascii

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pips import languages, roles, rules
from pips.inputs import (
    NO_META,
    RequestMeta,
    SignatureInput,
)
from pips.models import (
    RUNNING_STATUSES,
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
from pipsystem.images import PNG_MAGIC, NotAPng, png_dimensions

PNG_PREFIX = "data:image/png;base64,"
#: A drawn signature: a PNG data URL of at most this many characters (about 300 KB; a drawing
#: is a few tens), and of at most this many pixels across and down (a signature pad the width
#: of a large screen at three or four device pixels per CSS pixel).
MAX_IMAGE_CHARS = 400_000
MAX_IMAGE_WIDTH, MAX_IMAGE_HEIGHT = 4000, 1000
_UNREADABLE = gettext_lazy("The drawn signature could not be read. Clear it and draw it again.")


def image_problem(image: str) -> str | None:
    """What is wrong with a drawn signature (a PNG data URL), or None when nothing is. Its size
    in pixels is read from the PNG header before anything else of it is decoded: a PNG of a
    few kilobytes can be 13,000 pixels square, which printing would then have to decode."""
    if not image:
        return None
    if not image.startswith(PNG_PREFIX):
        return _("The drawn signature was not a PNG image.")
    encoded = image[len(PNG_PREFIX) :]
    if len(image) > MAX_IMAGE_CHARS:
        return _("The drawn signature is too large. Clear it and draw it again.")
    try:
        head = base64.b64decode(encoded[:32], validate=True)  # 24 bytes: up to the size
        width, height = png_dimensions(head)
    except NotAPng:
        if not head.startswith(PNG_MAGIC[: len(head)]):
            return _("The drawn signature was not a PNG image.")
        return str(_UNREADABLE)
    except (binascii.Error, ValueError):
        return str(_UNREADABLE)
    if width > MAX_IMAGE_WIDTH or height > MAX_IMAGE_HEIGHT:
        return _(
            "The drawn signature is %(width)s × %(height)s pixels; at most %(max_width)s × "
            "%(max_height)s are accepted. Clear it and draw it again."
        ) % {
            "width": width,
            "height": height,
            "max_width": MAX_IMAGE_WIDTH,
            "max_height": MAX_IMAGE_HEIGHT,
        }
    try:
        base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return str(_UNREADABLE)
    return None


def signature_write(
    *, actor, pip: Pip, version: PipVersion, role: str, data: SignatureInput, meta
) -> Signature:
    errors = {}
    if not data.consent:
        errors["consent"] = _("Tick the box to agree to sign electronically.")
    if not full_name_matches(data.typed_name, actor):
        errors["typed_name"] = _("Type your full name exactly as on your account: %(name)s.") % {
            "name": actor.get_full_name()
        }
    if data.agrees is False and not data.comments.strip():
        errors["comments"] = _("Say what you disagree with.")
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
        action="signed",
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
                action="activated",
                meta=meta,
                activated_at=timezone.now(),
            )
            schedule_write(pip=pip)
        else:
            write_audit(
                pip=pip, actor=actor, action="amendment_acknowledged", meta=meta, version=version
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
        if role == SignerRole.AGENT:
            require(pip.agent.user_id == actor.pk, "Only the employee can sign as employee.")
        elif role == SignerRole.MANAGER:
            require(
                rules.is_plan_supervisor(actor, pip), "Only the plan's supervisor signs as manager."
            )
        elif role == SignerRole.HR:
            require(roles.is_hr(actor), "Only HR can countersign.")
        else:
            raise ValidationError({"role": _("Unknown signer role.")})
        require_state(pip, {Status.ISSUED} | RUNNING_STATUSES, "sign")
        _signable_version(pip, version)
        signed = _roles_signed(version)
        if role == SignerRole.AGENT and SignerRole.MANAGER not in signed:
            raise TransitionError(_("The manager signs first, when the plan is issued."))
        if role == SignerRole.HR and SignerRole.AGENT not in signed:
            raise TransitionError(_("HR countersigns after the employee's acknowledgment."))
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
            rules.is_plan_supervisor(actor, pip), "Only the plan's supervisor records a refusal."
        )
        require_state(pip, {Status.ISSUED} | RUNNING_STATUSES, "record a refusal on")
        version = pip.current_version
        _signable_version(pip, version)
        signed = _roles_signed(version)
        if SignerRole.AGENT in signed:
            raise TransitionError(_("The employee's acknowledgment is already recorded."))
        if SignerRole.MANAGER not in signed:
            raise TransitionError(_("The manager signs first, when the plan is issued."))
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
            action="refusal_recorded",
            meta=meta,
            version=version,
            comment=note.strip(),
            changes={"witness": witness.get_full_name()},
        )
    return sig
