"""The plan lists of HR and supervisors: search, each filter, sorting, pages, the query kept in
the URL, CSV and XLSX exports that no spreadsheet runs as formulas, the autocomplete behind the
team and supervisor filters, who sees what, and a constant number of queries at two sizes."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from pips import plan_lists
from pips.models import Agent, AuditEvent, Outcome, Pip, Status, Team
from tests.conftest import make_user

URL = "/pips/list/"


def seed(prefix: str = "pl", teams: int = 3, agents: int = 90, plans: int = 60) -> None:
    call_command(
        "seed_scale",
        "--prefix",
        prefix,
        "--skip-demo",
        "--teams",
        str(teams),
        "--agents",
        str(agents),
        "--plans",
        str(plans),
        "--hr",
        "1",
        "--sample-days",
        "0",
        "--views",
        "0",
        "--big-plan-views",
        "0",
        "--notifications",
        "0",
        stdout=io.StringIO(),
    )


@pytest.fixture
def company(postgres):
    seed()
    return {
        "hr": User.objects.get(username="pl-hr-1"),
        "sup": User.objects.get(username="pl-sup-0001"),
        "sup2": User.objects.get(username="pl-sup-0002"),
    }


def _refs(response) -> list[int]:
    return [pip.pk for pip, _ in response.context["rows"]]


def _get(client, user, query: str = ""):
    client.force_login(user)
    return client.get(URL + query)


# --- search ------------------------------------------------------------------------------------


def test_search_by_name_employee_id_and_plan_number(client, company):
    plan = Pip.objects.select_related("agent").order_by("pk")[7]
    by_name = _get(client, company["hr"], f"?q={plan.agent.full_name.lower()}")
    assert _refs(by_name) == [plan.pk]
    by_id = _get(client, company["hr"], f"?q={plan.agent.employee_id.lower()}")
    assert _refs(by_id) == [plan.pk]
    by_reference = _get(client, company["hr"], f"?q={plan.reference}")
    assert _refs(by_reference) == [plan.pk]
    by_number = _get(client, company["hr"], f"?q={plan.pk}")
    assert plan.pk in _refs(by_number)
    nothing = _get(client, company["hr"], "?q=nobody-is-called-this")
    assert nothing.status_code == 200 and _refs(nothing) == []
    assert "No plans match." in nothing.content.decode()


# --- filters -----------------------------------------------------------------------------------


def test_filter_by_state_and_state_group(client, company):
    active = _get(client, company["hr"], "?state=active")
    assert _refs(active) and all(p.status == Status.ACTIVE for p, _ in active.context["rows"])
    closed = _get(client, company["hr"], "?state=closed")
    assert {p.status for p, _ in closed.context["rows"]} <= {
        Status.CLOSED_SUCCESSFUL,
        Status.CLOSED_UNSUCCESSFUL,
        Status.CANCELLED,
    }
    assert (
        closed.context["page"].paginator.count
        == Pip.objects.filter(status__in=plan_lists.STATE_GROUPS["closed"]).count()
    )


def test_filter_by_team_typed_by_name(client, company):
    team = Team.objects.get(name="Pl team 0002")
    response = _get(client, company["hr"], "?team=pl+TEAM+0002")
    rows = response.context["rows"]
    assert rows and all(p.agent.team_id == team.pk for p, _ in rows)
    assert response.context["page"].paginator.count == Pip.objects.filter(agent__team=team).count()


def test_an_unknown_team_is_refused_at_its_field(client, company):
    response = _get(client, company["hr"], "?team=Nowhere")
    assert response.status_code == 400
    assert "No team called “Nowhere”" in response.content.decode()
    assert response.context["rows"] == []


def test_filter_by_supervisor_with_the_login_the_suggestions_give(client, company):
    sup = company["sup2"]
    response = _get(client, company["hr"], f"?supervisor=Supervisor+0002+({sup.username})")
    rows = response.context["rows"]
    assert rows and all(p.supervisor_id == sup.pk for p, _ in rows)
    # Typed as the name alone it is found too, when only one person has it.
    assert _refs(_get(client, company["hr"], "?supervisor=supervisor+0002")) == [
        p.pk for p, _ in rows
    ]


def test_filter_by_site(client, company):
    Team.objects.filter(name="Pl team 0003").update(site="Manila")
    response = _get(client, company["hr"], "?site=Manila")
    rows = response.context["rows"]
    assert rows and all(p.agent.team.name == "Pl team 0003" for p, _ in rows)
    assert _get(client, company["hr"], "?site=Atlantis").status_code == 400


def test_filter_by_review_period_dates(client, company):
    day = timezone.localdate()
    response = _get(client, company["hr"], f"?period_from={day}&period_to={day}")
    rows = response.context["rows"]
    assert rows
    for pip, _ in rows:
        version = pip.current_version
        assert version.period_start <= day <= version.period_end
    backwards = _get(client, company["hr"], f"?period_from={day}&period_to={day - dt.timedelta(1)}")
    assert backwards.status_code == 400
    assert "The end of the range is before its start." in backwards.content.decode()


# --- sorting, pages, the URL -------------------------------------------------------------------


def test_sorting_both_ways_and_a_bad_sort_is_refused(client, company):
    up = _get(client, company["hr"], "?sort=name")
    names = [p.agent.full_name for p, _ in up.context["rows"]]
    assert names == sorted(names)
    down = _get(client, company["hr"], "?sort=-name")
    assert [p.agent.full_name for p, _ in down.context["rows"]][0] == max(
        Pip.objects.values_list("agent__full_name", flat=True)
    )
    # The heading of the sorted column says so, and links to the other direction.
    header = next(h for h in up.context["headers"] if h["label"] == "Employee")
    assert header["aria"] == "ascending" and header["href"].endswith("sort=-name")
    bad = _get(client, company["hr"], "?sort=salary")
    assert bad.status_code == 400
    assert "cannot be sorted by “salary”" in bad.content.decode()


def test_pages_keep_the_query(client, company):
    first = _get(client, company["hr"], "?period_from=2000-01-01&sort=ref")
    page = first.context["page"]
    assert page.paginator.count > plan_lists.PAGE_SIZE
    assert len(first.context["rows"]) == plan_lists.PAGE_SIZE
    html = first.content.decode()
    assert "?period_from=2000-01-01&amp;sort=ref&amp;page=2" in html
    assert "?period_from=2000-01-01&amp;sort=ref&amp;export=csv" in html
    second = _get(client, company["hr"], "?period_from=2000-01-01&sort=ref&page=2")
    assert len(second.context["rows"]) == page.paginator.count - plan_lists.PAGE_SIZE
    assert set(_refs(first)).isdisjoint(_refs(second))
    assert _refs(first) == sorted(_refs(first))


# --- exports -----------------------------------------------------------------------------------


@pytest.fixture
def hostile_plan(company, make_plan, harper):
    """A plan whose agent's name a spreadsheet would run as a formula."""
    team = Team.objects.get(name="Pl team 0001")
    agent = Agent.objects.create(
        employee_id="=1+1",
        full_name='=HYPERLINK("http://example.com","x")',
        team=team,
        supervisor=company["sup"],
    )
    return make_plan(agent, "draft")


def test_csv_export_is_the_filtered_list_and_formula_safe(client, company, hostile_plan):
    response = _get(client, company["hr"], "?q=HYPERLINK&export=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == plan_lists.EXPORT_HEADER
    assert len(rows) == 2
    assert rows[1][0] == hostile_plan.reference
    assert rows[1][1] == '\'=HYPERLINK("http://example.com","x")'
    assert rows[1][2] == "'=1+1"
    event = AuditEvent.objects.get(action="report_exported")
    assert event.actor == company["hr"] and event.comment == "plans.csv"
    assert event.changes["filters"] == {"q": "HYPERLINK"}


def test_csv_export_of_everything_matches_the_list(client, company):
    response = _get(client, company["hr"], "?state=active&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) - 1 == Pip.objects.filter(status=Status.ACTIVE).count()


def test_xlsx_export_holds_text_not_formulas(client, company, hostile_plan):
    response = _get(client, company["hr"], "?q=HYPERLINK&export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == plan_lists.EXPORT_HEADER
    assert rows[1][1] == '\'=HYPERLINK("http://example.com","x")'
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_an_unknown_export_is_refused(client, company):
    response = _get(client, company["hr"], "?export=pdf")
    assert response.status_code == 400
    assert "There is no “pdf” export" in response.content.decode()
    assert not AuditEvent.objects.filter(action="report_exported").exists()


# --- who sees what -----------------------------------------------------------------------------


def test_a_supervisor_lists_only_their_own_plans(client, company):
    sup = company["sup"]
    response = _get(client, sup, "?sort=ref")
    assert response.status_code == 200
    own = set(Pip.objects.filter(supervisor=sup).values_list("pk", flat=True)) | set(
        Pip.objects.filter(agent__supervisor=sup).values_list("pk", flat=True)
    )
    assert set(_refs(response)) == own
    # Another team's name is not a filter they may use, and the export holds their plans only.
    assert _get(client, sup, "?team=Pl+team+0002").status_code == 400
    export = _get(client, sup, "?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert len(rows) - 1 == len(own)


@pytest.mark.parametrize("who", ["agent", "analyst"])
def test_agents_and_analysts_have_no_plan_list(client, company, alex, who):
    user = alex.user if who == "agent" else make_user("ana", "Ana", "Lyst", "analyst")
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.get(reverse("pips:lookup_teams") + "?q=pl").status_code == 403


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_post_is_refused(client, company):
    client.force_login(company["hr"])
    assert client.post(URL).status_code == 405


# --- autocomplete ------------------------------------------------------------------------------


def test_team_and_supervisor_suggestions_are_few_and_scoped(client, company):
    seed("plx", teams=30, agents=60, plans=0)
    client.force_login(company["hr"])
    teams = client.get(reverse("pips:lookup_teams") + "?q=team").json()["results"]
    assert len(teams) == plan_lists.LOOKUP_LIMIT
    people = client.get(reverse("pips:lookup_supervisors") + "?q=0002").json()
    assert {p["label"] for p in people["results"]} == {
        "Supervisor 0002 (pl-sup-0002)",
        "Supervisor 0002 (plx-sup-0002)",
    }
    client.force_login(company["sup"])
    own = client.get(reverse("pips:lookup_teams") + "?q=team").json()["results"]
    assert [t["label"] for t in own] == ["Pl team 0001"]


def test_the_filter_form_has_no_select_of_every_team(client, company):
    seed("plx", teams=30, agents=60, plans=0)
    html = _get(client, company["hr"]).content.decode()
    assert "Plx team 0030" not in html
    assert 'data-lookup="teams"' in html


# --- queries at two sizes ------------------------------------------------------------------------


def test_list_and_export_queries_do_not_grow_with_the_data(client, postgres):
    seed("qs", teams=2, agents=30, plans=12)
    hr = User.objects.get(username="qs-hr-1")
    queries = ["", "?q=Rivera", "?state=active&sort=-end", "?team=Qs+team+0001&page=1"]

    def counts():
        client.force_login(hr)
        result = []
        for query in queries + ["?export=csv"]:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(URL + query)
                if query.endswith("csv"):
                    b"".join(response.streaming_content)
            assert response.status_code == 200
            result.append(len(captured.captured_queries))
        return result

    small = counts()
    seed("qt", teams=4, agents=300, plans=150)
    assert counts() == small


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the search indexes are PostgreSQL's")
@pytest.mark.parametrize(
    ("lookup", "index"),
    [
        ("full_name__icontains", "agent_name_trgm"),
        ("employee_id__iexact", "agent_employee_id_upper"),
    ],
)
def test_the_search_lookups_can_read_the_agents_through_an_index(db, lookup, index):
    """The lookups of the plan list's search (plan_lists._search) match the expressions of the
    indexes of migration 0013, so a large company's agents are not read one by one: with
    sequential scans priced out, PostgreSQL reads them through the index."""
    agents = Agent.objects.filter(**{lookup: "Rivera"})
    sql, params = agents.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


def test_the_export_writes_the_outcome_and_state_as_words_in_the_askers_language(
    alex, harper, make_plan
):
    pip = make_plan(alex, "active", hr=harper)
    Pip.objects.filter(pk=pip.pk).update(
        status=Status.CLOSED_SUCCESSFUL, outcome=Outcome.SUCCESSFUL, closed_at=timezone.now()
    )
    plans = Pip.objects.filter(pk=pip.pk)
    english = list(plan_lists.export_rows(plans))
    assert english[1][6:] == [
        "Closed: successful",
        *english[1][7:11],
        "Successful: goals met",
    ]
    with translation.override("es"):
        rows = plan_lists.export_rows(plans)  # streamed after the view has returned
        spanish_header = [str(heading) for heading in plan_lists.EXPORT_HEADER]
        labels = (str(Status.CLOSED_SUCCESSFUL.label), str(Outcome.SUCCESSFUL.label))
    spanish = list(rows)
    assert spanish[0] == spanish_header != english[0]
    assert (spanish[1][6], spanish[1][-1]) == labels
    assert labels != ("Closed: successful", "Successful: goals met")
