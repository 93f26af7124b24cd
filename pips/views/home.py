"""Home pages, one part per role, each in a constant number of queries.

Each starts with "needs you now" (pips.selectors.needs_you_now), the user's short, ordered
to-do. A supervisor then sees who is below standard (one row per agent), their plans grouped by
state with what each is waiting for, and their team with each KPI against the standard; HR the
approval queue and every plan, filtered; an agent their own issued plans."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pips import roles, selectors
from pips.forms.home import PlanFilterForm
from pips.progress import agents_below_standard

PAGE_SIZE = 50
QUEUE_SIZE = 20
# The supervisor's home shows a bounded part of a large team, the rest a click away: the first
# agents below standard (`?below=all` for every one) and the team table a page at a time
# (`?team_page=`). A team of 100 rendered whole was 250 KB of HTML and most of the page's time.
BELOW_SHOWN = 25
TEAM_PAGE_SIZE = 25


# Beyond any real list; a larger number (`?page=99999999999999999999`) would overflow the
# database's OFFSET, so it is read as this one: an empty page with a link back.
MAX_PAGE = 100_000


def _page_number(raw: str | None) -> int:
    try:
        return min(max(1, int(raw or 1)), MAX_PAGE)
    except ValueError:
        return 1


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    user_roles = roles.roles_of(user)
    is_hr = bool(user_roles & {roles.HR, roles.ADMIN})
    # HR's turn to countersign, disagreements first and flagged: on "needs you now" and in
    # its own list below.
    countersign = selectors.awaiting_countersignature(user) if is_hr else None
    plans = selectors.supervisor_plans(user) if roles.SUPERVISOR in user_roles else None
    # The oldest waiting for a decision: on "needs you now" and in the queue below, read once.
    queue = (
        list(selectors.approval_queue(user)[: max(QUEUE_SIZE, selectors.TODO_LIMIT)])
        if is_hr
        else None
    )
    context: dict = {
        "todos": selectors.needs_you_now(
            user, countersign=countersign, supervised=plans, approvals=queue
        ),
        "is_hr": is_hr,
        "is_supervisor": roles.SUPERVISOR in user_roles,
        "is_agent": roles.AGENT in user_roles,
    }
    if plans is not None:
        kpis = selectors.kpi_catalog()
        start, end = selectors.recent_window()
        team_rows = selectors.team_overview(user, kpis, plans)
        below = agents_below_standard([row.agent for row in team_rows], kpis, plans)
        show_all_below = request.GET.get("below") == "all"
        team_pages = max(1, -(-len(team_rows) // TEAM_PAGE_SIZE))
        team_page = min(_page_number(request.GET.get("team_page")), team_pages)
        team_start = (team_page - 1) * TEAM_PAGE_SIZE
        context.update(
            kpi_columns=[(kpi, selectors.standard_display(kpi)) for kpi in kpis],
            team_count=len(team_rows),
            team_rows=team_rows[team_start : team_start + TEAM_PAGE_SIZE],
            team_page=team_page,
            team_pages=team_pages,
            team_paged="team_page" in request.GET,
            below_standard=below if show_all_below else below[:BELOW_SHOWN],
            below_count=len(below),
            show_all_below=show_all_below,
            plan_groups=(groups := selectors.group_by_status(plans)),
            open_groups=[group for group in groups if not group.is_closed],
            closed_groups=[group for group in groups if group.is_closed],
            window=(start, end),
        )
    if is_hr:
        filter_form = PlanFilterForm(request.GET or None, user=user)
        page = _page_number(request.GET.get("page"))
        offset = (page - 1) * PAGE_SIZE
        # One row more than a page says whether there is a next page, without a COUNT.
        listed = list(
            selectors.hr_plans(user, **filter_form.filters())[offset : offset + PAGE_SIZE + 1]
        )
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            # An administrator sees HR's lists; deciding and templates are HR's alone.
            can_decide=roles.HR in user_roles,
            filter_form=filter_form,
            # The oldest first, a page of them; the plan list shows every one.
            queue=[(p, selectors.waiting_for(p)) for p in queue[:QUEUE_SIZE]],
            queue_count=selectors.approval_queue(user).count(),
            countersign=countersign,
            all_plans=[(p, selectors.waiting_for(p)) for p in listed[:PAGE_SIZE]],
            page=page,
            has_next=len(listed) > PAGE_SIZE,
            query=query.urlencode(),
        )
    if roles.AGENT in user_roles:
        own = selectors.agent_own_plans(user)
        context.update(
            own_plans=[(p, selectors.waiting_for(p)) for p in own],
        )
    return render(request, "pips/home.html", context)
