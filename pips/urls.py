from django.urls import path

from pips.views import audit as audit_views
from pips.views import authoring, changes, home, hr, plans
from pips.views import notifications as notification_views
from pips.views import pdf as pdf_views
from pips.views import plan_lists as plan_list_views
from pips.views import profile as profile_views
from pips.views import reviews as review_views
from pips.views import signing as signing_views
from pips.views import stats as stats_views

app_name = "pips"

urlpatterns = [
    path("", home.home, name="home"),
    path("pips/list/", plan_list_views.plan_list, name="plans"),
    path("pips/lookup/teams/", plan_list_views.lookup_teams, name="lookup_teams"),
    path(
        "pips/lookup/supervisors/",
        plan_list_views.lookup_supervisors,
        name="lookup_supervisors",
    ),
    path("pips/<int:pk>/", plans.detail, name="detail"),
    path("pips/<int:pk>/v<int:number>/", plans.detail, name="version"),
    # Authoring, HR approval and issue.
    path("pips/new/", authoring.plan_new, name="new"),
    path("pips/<int:pk>/edit/", authoring.plan_edit, name="edit"),
    path("pips/<int:pk>/preview/", authoring.plan_preview, name="preview"),
    path("pips/<int:pk>/submit/", authoring.plan_submit, name="submit"),
    path("pips/<int:pk>/hr-review/", hr.hr_review, name="hr_review"),
    path("pips/<int:pk>/issue/", authoring.plan_issue, name="issue"),
    path("pips/templates/", hr.template_list, name="templates"),
    path("pips/templates/<int:pk>/copy/", hr.template_copy, name="template_copy"),
    path("pips/templates/<int:pk>/edit/", hr.template_edit, name="template_edit"),
    path("pips/templates/<int:pk>/active/", hr.template_active, name="template_active"),
    path("pips/<int:pk>/pdf/", pdf_views.plan_pdf, name="pdf"),
    path("pips/<int:pk>/v<int:number>/pdf/", pdf_views.version_pdf, name="version_pdf"),
    path("pips/verify/", pdf_views.verify, name="verify"),
    path("pips/stats/", stats_views.stats_page, name="stats"),
    path("pips/stats/export.csv", stats_views.stats_csv, name="stats_csv"),
    # Check-ins, reviews and outcomes.
    path("pips/<int:pk>/checkins/new/", review_views.checkin_new, name="checkin_new"),
    path("pips/<int:pk>/checkins/missed/", review_views.checkin_missed, name="checkin_missed"),
    path("pips/<int:pk>/checkins/<int:checkin_id>/", review_views.checkin_detail, name="checkin"),
    path("pips/<int:pk>/reviews/", review_views.reviews, name="reviews"),
    path("pips/<int:pk>/reviews/open/", review_views.review_open, name="review_open"),
    path("pips/<int:pk>/reviews/<int:review_id>/", review_views.review, name="review"),
    path("pips/<int:pk>/decide/", review_views.hr_decide, name="hr_decide"),
    path("pips/<int:pk>/cancel/", review_views.cancel, name="cancel"),
    # Signatures, refusals to sign, amendments and the audit trail.
    path("pips/<int:pk>/sign/", signing_views.sign, name="sign"),
    path("pips/<int:pk>/refusal/", signing_views.refusal, name="refusal"),
    path("pips/<int:pk>/amend/", signing_views.amend, name="amend"),
    path("pips/<int:pk>/amendment/", signing_views.amendment, name="amendment"),
    path(
        "pips/<int:pk>/amendment/submit/",
        signing_views.amendment_submit,
        name="amendment_submit",
    ),
    path(
        "pips/<int:pk>/amendment/decide/",
        signing_views.amendment_decide,
        name="amendment_decide",
    ),
    path(
        "pips/<int:pk>/v<int:number>/changes/",
        signing_views.version_changes,
        name="version_changes",
    ),
    path("pips/<int:pk>/audit/", audit_views.audit, name="audit"),
    # Leave, transfer, the employee leaving, and cover.
    path("pips/<int:pk>/pause/", changes.pause, name="pause"),
    path("pips/<int:pk>/reassign/", changes.reassign, name="reassign"),
    path("pips/<int:pk>/end-employment/", changes.end_employment, name="end_employment"),
    path("pips/cover/", changes.cover, name="cover"),
    path("pips/cover/<int:pk>/end/", changes.cover_end, name="cover_end"),
    # The person's own profile: their language.
    path("profile/", profile_views.profile, name="profile"),
    # The in-app notification list.
    path("notifications/", notification_views.index, name="notifications"),
    path("notifications/read/", notification_views.read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/read/", notification_views.read, name="notification_read"),
]
