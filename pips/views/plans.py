from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from pips import audit, rules, selectors, services
from pips.actions import available_actions
from pips.content import content_hash
from pips.progress import expectation_progress
from pips.views.common import request_meta


@require_GET
@login_required
def detail(request: HttpRequest, pk: int, number: int | None = None) -> HttpResponse:
    """The plan, laid out like the template, with its timeline and the viewer's next steps.
    With a version number, that version as it was (old versions stay readable)."""
    pip = selectors.pip_detail(request.user, pk)
    versions = list(pip.versions.all())
    whole = rules.sees_whole_plan(request.user, pip)
    if not whole:
        # The employee reads only what was issued to them, never a draft amendment.
        versions = [v for v in versions if v.is_frozen()]
    wanted = pip.current_version_id if number is None else None
    shown = next(
        (v for v in versions if v.pk == wanted or (number is not None and v.number == number)),
        None,
    )
    if shown is None:
        raise Http404(_("No such version of this plan."))
    version = selectors.version_with_sections(shown.pk)
    current_hash = content_hash(version)
    signatures = [(sig, sig.content_sha256 == current_hash) for sig in version.signatures.all()]
    services.pip_viewed(actor=request.user, pip=pip, meta=request_meta(request))
    response = render(
        request,
        "pips/detail.html",
        {
            "pip": pip,
            "version": version,
            "versions": versions,
            "signatures": signatures,
            "content_hash": current_hash,
            "actions": available_actions(request.user, pip),
            # Each entry as this reader may see it: the employee's audience, or everything.
            "events": audit.entries(pip.events.all(), issued_at=pip.issued_at, whole=whole),
            "pauses": list(pip.pauses.all()),
            "holders": selectors.pip_holders(pip),
            "progress": expectation_progress(version, version.employee_id),
        },
    )
    response["Cache-Control"] = "no-store"
    return response
