"""The expected permission matrix: for every URL of the project, what each role gets on GET and
on POST (an empty form). A URL without a row here fails test_permission_matrix.

Columns, in this order (tests/security/conftest.py ROLES):
    anon agent other_agent supervisor other_supervisor hr admin analyst supervisor_hr
Alex ("agent") is the plan's employee and Sam ("supervisor") his supervisor; Blake and Olivia
are the agent and supervisor of another team; "admin" is a superuser without groups;
"supervisor_hr" is Dana, in both the supervisor and HR groups and Alex's current supervisor: she
sees his plan whole, but no HR step on it is hers (separation of duties: 403).

Cells: `login` = sent to the login page; otherwise the status code (302 = the page's own
redirect after a POST, or back to the plan when the step does not apply in its state).
`state` is the state of Alex's plan the row is requested in; `kwargs` names the object a URL
argument is filled from when it is not the default (pk = the plan, number = the version in
force, checkin_id = the check-in, review_id = the review).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    state: str
    get: str
    post: str
    kwargs: dict[str, str] = field(default_factory=dict)

    def cells(self, method: str) -> list[str]:
        return (self.get if method == "GET" else self.post).split()


EXPECTED: dict[str, Row] = {
    # Columns:  anon  agent oagt  sup   osup  hr    admin analyst sup+hr
    "javascript-catalog": Row(
        "active",
        get="200   200   200   200   200   200   200   200   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "health_live": Row(
        "active",
        get="200   200   200   200   200   200   200   200   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "health_ready": Row(
        "active",
        get="200   200   200   200   200   200   200   200   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "identity:invitation": Row(
        "active",
        get="404   404   404   404   404   404   404   404   404",
        post="404   404   404   404   404   404   404   404   404",
    ),
    "identity:oidc_authentication_callback": Row(
        "active",
        get="404   404   404   404   404   404   404   404   404",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "identity:oidc_authentication_init": Row(
        "active",
        get="404   404   404   404   404   404   404   404   404",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "identity:recovery_codes": Row(
        "active",
        get="login 405   405   405   405   405   405   405   405",
        post="login 302   302   302   302   302   302   302   302",
    ),
    "identity:scim_group": Row(
        "active",
        get="401   401   401   401   401   401   401   401   401",
        post="405   405   405   405   405   405   405   405   405",
        kwargs={"scim_id": "0b6e1a52-0000-4000-8000-000000000000"},
    ),
    "identity:scim_groups": Row(
        "active",
        get="401   401   401   401   401   401   401   401   401",
        post="401   401   401   401   401   401   401   401   401",
    ),
    "identity:scim_resource_types": Row(
        "active",
        get="401   401   401   401   401   401   401   401   401",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "identity:scim_schemas": Row(
        "active",
        get="401   401   401   401   401   401   401   401   401",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "identity:scim_service_provider_config": Row(
        "active",
        get="401   401   401   401   401   401   401   401   401",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "identity:scim_user": Row(
        "active",
        get="401   401   401   401   401   401   401   401   401",
        post="405   405   405   405   405   405   405   405   405",
        kwargs={"scim_id": "0b6e1a52-0000-4000-8000-000000000000"},
    ),
    "identity:scim_users": Row(
        "active",
        get="401   401   401   401   401   401   401   401   401",
        post="401   401   401   401   401   401   401   401   401",
    ),
    "identity:sso_refused": Row(
        "active",
        get="403   403   403   403   403   403   403   403   403",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "identity:twofactor_setup": Row(
        "active",
        get="login 200   200   200   200   200   200   200   200",
        post="login 200   200   200   200   200   200   200   200",
    ),
    "identity:twofactor_verify": Row(
        "active",
        get="login 302   302   302   302   302   302   302   302",
        post="login 302   302   302   302   302   302   302   302",
    ),
    "roster:roster": Row(
        "active",
        get="login 403   403   403   403   200   200   403   200",
        post="login 403   403   403   403   200   200   403   200",
    ),
    "roster:map": Row(
        "active",
        get="login 403   403   403   403   404   404   403   404",
        post="login 403   403   403   403   404   404   403   404",
    ),
    "roster:preview": Row(
        "active",
        get="login 403   403   403   403   404   404   403   404",
        post="login 403   403   403   403   404   404   403   404",
    ),
    "roster:import": Row(
        "active",
        get="login 403   403   403   403   404   404   403   404",
        post="login 403   403   403   403   405   405   403   405",
        kwargs={"pk": "0"},
    ),
    "roster:invitations": Row(
        "active",
        get="login 403   403   200   200   200   200   403   200",
        post="login 403   403   200   200   200   200   403   200",
    ),
    "roster:api_roster": Row(
        "active",
        get="401   401   401   401   401   401   401   401   401",
        post="401   401   401   401   401   401   401   401   401",
    ),
    "login": Row(
        "active",
        get="200   200   200   200   200   200   200   200   200",
        post="200   200   200   200   200   200   200   200   200",
    ),
    "logout": Row(
        "active",
        get="405   405   405   405   405   405   405   405   405",
        post="login login login login login login login login login",
    ),
    "metrics:api_samples": Row(
        "active",
        get="401   401   401   401   401   401   401   401   401",
        post="401   401   401   401   401   401   401   401   401",
    ),
    "metrics:api_schema": Row(
        "active",
        get="200   200   200   200   200   200   200   200   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "metrics:load": Row(
        "active",
        get="login 403   403   403   403   200   200   200   200",
        post="login 403   403   403   403   405   405   405   405",
        kwargs={"pk": "metric_load"},
    ),
    "metrics:load_status": Row(
        "active",
        get="login 403   403   403   403   200   200   200   200",
        post="login 403   403   403   403   405   405   405   405",
        kwargs={"pk": "metric_load"},
    ),
    "metrics:loads": Row(
        "active",
        get="login 403   403   403   403   200   200   200   200",
        post="login 403   403   403   403   405   405   405   405",
    ),
    "metrics:upload": Row(
        "active",
        get="login 403   403   403   403   200   200   200   200",
        post="login 403   403   403   403   200   200   200   200",
    ),
    "metrics:upload_map": Row(
        "active",
        get="login 403   403   403   403   404   404   200   404",
        post="login 403   403   403   403   404   404   200   404",
        kwargs={"token": "upload_token"},
    ),
    "metrics:upload_preview": Row(
        "active",
        get="login 403   403   403   403   404   404   200   404",
        post="login 403   403   403   403   404   404   200   404",
        kwargs={"token": "upload_token"},
    ),
    "password_reset": Row(
        "active",
        get="200   200   200   200   200   200   200   200   200",
        post="200   200   200   200   200   200   200   200   200",
    ),
    "password_reset_complete": Row(
        "active",
        get="200   200   200   200   200   200   200   200   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "password_reset_confirm": Row(
        "active",
        get="302   302   302   302   302   302   302   302   302",
        post="302   302   302   302   302   302   302   302   302",
    ),
    "password_reset_done": Row(
        "active",
        get="200   200   200   200   200   200   200   200   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "pips:amend": Row(
        "active",
        get="login 403   404   302   404   403   403   404   302",
        post="login 403   404   302   404   403   403   404   302",
    ),
    "pips:amendment": Row(
        "active",
        get="login 403   404   200   404   200   403   404   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "pips:amendment_decide": Row(
        "active",
        get="405   405   405   405   405   405   405   405   405",
        post="login 403   404   403   404   200   403   404   403",
    ),
    "pips:amendment_submit": Row(
        "active",
        get="405   405   405   405   405   405   405   405   405",
        post="login 403   404   302   404   403   403   404   302",
    ),
    "pips:audit": Row(
        "active",
        get="login 403   404   403   404   200   403   404   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "pips:cancel": Row(
        "active",
        get="login 403   404   403   404   200   403   404   200",
        post="login 403   404   403   404   200   403   404   200",
    ),
    "pips:checkin": Row(
        "active",
        get="login 200   404   200   404   200   200   404   200",
        post="login 200   404   403   404   403   403   404   403",
    ),
    "pips:checkin_missed": Row(
        "active",
        get="login 403   404   200   404   403   403   404   200",
        post="login 403   404   200   404   403   403   404   200",
    ),
    "pips:checkin_new": Row(
        "active",
        get="login 403   404   200   404   403   403   404   200",
        post="login 403   404   200   404   403   403   404   200",
    ),
    "pips:detail": Row(
        "active",
        get="login 200   404   200   404   200   200   404   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "pips:edit": Row(
        "draft",
        get="login 404   404   200   404   403   403   404   200",
        post="login 404   404   200   404   403   403   404   200",
    ),
    "pips:home": Row(
        "active",
        get="login 200   200   200   200   200   200   200   200",
        post="login 405   405   405   405   405   405   405   405",
    ),
    "pips:hr_decide": Row(
        "active",
        get="login 403   404   403   404   302   403   404   302",
        post="login 403   404   403   404   302   403   404   302",
    ),
    "pips:hr_review": Row(
        "pending_hr",
        get="login 404   404   403   404   200   403   404   403",
        post="login 404   404   403   404   200   403   404   403",
    ),
    "pips:issue": Row(
        "approved",
        get="login 404   404   200   404   403   403   404   200",
        post="login 404   404   200   404   403   403   404   200",
    ),
    "pips:new": Row(
        "active",
        get="login 403   403   200   200   403   403   403   200",
        post="login 403   403   200   200   403   403   403   200",
    ),
    "pips:notification_read": Row(
        "active",
        get="405   405   405   405   405   405   405   405   405",
        post="login 302   404   404   404   404   404   404   404",
        kwargs={"pk": "notification"},
    ),
    "pips:notifications": Row(
        "active",
        get="login 200   200   200   200   200   200   200   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "pips:profile": Row(
        "active",
        get="login 200   200   200   200   200   200   200   200",
        post="login 302   302   302   302   302   302   302   302",
    ),
    "pips:notifications_read_all": Row(
        "active",
        get="405   405   405   405   405   405   405   405   405",
        post="login 302   302   302   302   302   302   302   302",
    ),
    "pips:pdf": Row(
        "active",
        get="login 200   404   200   404   200   200   404   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "pips:preview": Row(
        "draft",
        get="login 404   404   200   404   200   403   404   200",
        post="login 405   405   405   405   405   405   405   405",
    ),
    "pips:refusal": Row(
        "issued",
        get="login 403   404   200   404   403   403   404   200",
        post="login 403   404   200   404   403   403   404   200",
    ),
    "pips:review": Row(
        "active",
        get="login 200   404   200   404   200   200   404   200",
        post="login 403   404   200   404   403   403   404   200",
    ),
    "pips:review_open": Row(
        "active",
        get="405   405   405   405   405   405   405   405   405",
        post="login 403   404   302   404   302   403   404   302",
    ),
    "pips:reviews": Row(
        "active",
        get="login 200   404   200   404   200   200   404   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "pips:sign": Row(
        "issued",
        get="login 200   404   403   404   200   403   404   403",
        post="login 200   404   403   404   200   403   404   403",
    ),
    "pips:stats": Row(
        "active",
        get="login 403   403   403   403   200   200   403   200",
        post="login 405   405   405   405   405   405   405   405",
    ),
    "pips:stats_csv": Row(
        "active",
        get="login 403   403   403   403   200   200   403   200",
        post="login 405   405   405   405   405   405   405   405",
    ),
    "pips:submit": Row(
        "draft",
        get="login 404   404   200   404   403   403   404   200",
        post="login 404   404   302   404   403   403   404   302",
    ),
    "pips:template_active": Row(
        "active",
        get="login 405   405   405   405   405   405   405   405",
        post="login 403   403   403   403   302   403   403   302",
        kwargs={"pk": "template"},
    ),
    "pips:template_copy": Row(
        "active",
        get="login 403   403   403   403   200   403   403   200",
        post="login 403   403   403   403   200   403   403   200",
        kwargs={"pk": "template"},
    ),
    "pips:template_edit": Row(
        "active",
        get="login 403   403   403   403   200   403   403   200",
        post="login 403   403   403   403   200   403   403   200",
        kwargs={"pk": "template"},
    ),
    "pips:templates": Row(
        "active",
        get="login 403   403   403   403   200   403   403   200",
        post="login 405   405   405   405   405   405   405   405",
    ),
    "pips:plans": Row(
        "active",
        get="login 403   403   200   200   200   200   403   200",
        post="login 405   405   405   405   405   405   405   405",
    ),
    "pips:lookup_teams": Row(
        "active",
        get="login 403   403   200   200   200   200   403   200",
        post="login 405   405   405   405   405   405   405   405",
    ),
    "pips:lookup_supervisors": Row(
        "active",
        get="login 403   403   200   200   200   200   403   200",
        post="login 405   405   405   405   405   405   405   405",
    ),
    # Open to anyone: those who check a printed copy have no account (rate-limited).
    "pips:verify": Row(
        "active",
        get="200   200   200   200   200   200   200   200   200",
        post="200   200   200   200   200   200   200   200   200",
    ),
    "pips:version": Row(
        "active",
        get="login 200   404   200   404   200   200   404   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "pips:version_changes": Row(
        "active",
        get="login 403   404   200   404   200   403   404   200",
        post="405   405   405   405   405   405   405   405   405",
        kwargs={"number": "latest_version"},
    ),
    "pips:version_pdf": Row(
        "active",
        get="login 200   404   200   404   200   200   404   200",
        post="405   405   405   405   405   405   405   405   405",
    ),
    "pips:pause": Row(
        "active",
        get="login 403   404   200   404   200   403   404   200",
        post="login 403   404   200   404   200   403   404   200",
    ),
    "pips:reassign": Row(
        "active",
        get="login 403   404   403   404   200   403   404   200",
        post="login 403   404   403   404   200   403   404   200",
    ),
    "pips:end_employment": Row(
        "active",
        get="405   405   405   405   405   405   405   405   405",
        post="login 403   404   403   404   200   403   404   200",
    ),
    "pips:cover": Row(
        "active",
        get="login 403   403   200   200   403   403   403   200",
        post="login 403   403   200   200   403   403   403   200",
    ),
    "pips:cover_end": Row(
        "active",
        get="405   405   405   405   405   405   405   405   405",
        post="login 404   404   302   302   404   404   404   404",
        kwargs={"pk": "delegation"},
    ),
}
