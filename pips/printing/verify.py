"""The check of an uploaded copy: signed by us and intact, and whether it matches the record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from pips.content import content_hash
from pips.models import (
    Pip,
    PipVersion,
)
from pips.selectors import pips_visible, version_with_sections
from pipsystem import l10n, pdfsign

#: Largest upload the verification page accepts.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


GENUINE = "genuine"  # signed by us, intact, and matching the record
CHANGED = "changed"  # signed by us and intact, but the record differs now
UNKNOWN = "unknown"  # signed by us and intact, but there is no such record
NOT_GENUINE = "not_genuine"  # altered, unsigned, signed by someone else, or not a PDF


@dataclass(frozen=True)
class CopyCheck:
    """What the verification page says about an uploaded file, in plain words. ``pip`` and
    ``version_number`` are set only when the user may see that plan."""

    verdict: str
    headline: str
    details: list[str]
    status: str
    pip: Pip | None = None
    version_number: int | None = None
    url: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == GENUINE


def _printed_at(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        moment = dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return ""
    return l10n.datetime(moment)


def check_copy(user, data: bytes) -> CopyCheck:
    """Check an uploaded PDF: is the organisation's signature intact, which plan and version is
    it, and does its content hash match the record. Tells the plan's number only to a user who
    may see that plan."""
    result = pdfsign.verify_pdf(data)
    if not result.ok:
        headline = {
            pdfsign.STATUS_NOT_PDF: _("Not a PDF"),
            pdfsign.STATUS_UNSIGNED: _("Not signed: not an authentic copy"),
            pdfsign.STATUS_ALTERED: _("Altered: not an authentic copy"),
            pdfsign.STATUS_UNTRUSTED: _("Signed by someone else: not an authentic copy"),
            pdfsign.STATUS_MODIFIED: _("Changed after signing: not an authentic copy"),
        }[result.status]
        return CopyCheck(
            verdict=NOT_GENUINE, headline=headline, details=[result.summary], status=result.status
        )

    details = [result.summary]
    try:
        pip_id, number = int(result.pip_id or ""), int(result.version or "")
    except ValueError:
        pip_id = number = None
    version = (
        PipVersion.objects.select_related("pip").filter(pip_id=pip_id, number=number).first()
        if pip_id is not None
        else None
    )
    if version is None:
        return CopyCheck(
            verdict=UNKNOWN,
            headline=_("Signed by us, but it matches no record"),
            details=[*details, _("There is no plan record for this copy.")],
            status=result.status,
        )

    # An issued version's hash was fixed at issue; a draft's is the draft as it stands now.
    recorded = version.content_sha256 or content_hash(version_with_sections(version.pk))
    matches = bool(result.content_hash) and result.content_hash == recorded
    visible = pips_visible(user).filter(pk=pip_id).exists()
    printed = _printed_at(result.metadata.get("printed_at"))
    if printed:
        details.append(_("The copy was printed on %(date)s.") % {"date": printed})

    if matches:
        details.append(
            _("Its content hash matches the record: the plan it shows is the plan on file.")
        )
    else:
        details.append(_("Its content hash does not match the record."))
    if not visible:
        if matches:
            return CopyCheck(
                verdict=GENUINE,
                headline=_("Authentic: it matches a record you do not have access to"),
                details=details,
                status=result.status,
            )
        return CopyCheck(
            verdict=CHANGED,
            headline=_("Signed by us, but it no longer matches the record"),
            details=details,
            status=result.status,
        )

    pip = version.pip
    label = _("%(reference)s version %(number)s") % {
        "reference": pip.reference,
        "number": version.number,
    }
    url = reverse("pips:version", args=[pip.pk, version.number])
    if matches:
        if not version.content_sha256:
            details.append(
                _("Version %(number)s is a draft that has not been issued.")
                % {"number": version.number}
            )
        return CopyCheck(
            verdict=GENUINE,
            headline=_("Authentic: it matches plan %(label)s") % {"label": label},
            details=details,
            status=result.status,
            pip=pip,
            version_number=version.number,
            url=url,
        )
    details.append(
        _(
            "The content of %(label)s on file is different from the content of this copy: it "
            "was printed from a draft that has changed since."
        )
        % {"label": label}
    )
    return CopyCheck(
        verdict=CHANGED,
        headline=_("Signed by us, but it no longer matches plan %(label)s") % {"label": label},
        details=details,
        status=result.status,
        pip=pip,
        version_number=version.number,
        url=url,
    )
