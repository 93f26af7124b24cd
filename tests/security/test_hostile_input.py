"""Hostile input does nothing: every form, posted by the role allowed to post it, with generated
data (empty, huge, unicode, control characters and NUL, HTML, SQL-looking text, tampered
hidden fields) never gives a 500, and a rejected submission saves nothing. Uploads that are too
large or of the wrong type are refused with a message; CSV exports neutralise formulas; and
`<script>` typed into a plan shows as text in the page, the e-mail and the PDF."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.messages import ERROR, get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from metrics.models import MetricLoad, MetricSource
from pips import services
from pips.models import (
    ActionItem,
    Expectation,
    Pip,
    PipTemplate,
    PipVersion,
    Reason,
    Signature,
    Team,
)
from pips.printing import verify
from tests.conftest import plan_content
from tests.security.permission_matrix import EXPECTED
from tests.security.urlwalk import all_routes, post_endpoints, url_for

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
HOSTILE = [
    "",
    " ",
    "x" * 20_000,
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE pips_pip; --",
    "1 OR 1=1",
    "\x00",
    "abc\x00def",
    "\x1b[31m\r\n\t\x07\x7f",
    "\u202e\ufeff\u200b",
    "😀🧪 Ωmega ç√",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "2099-02-30",
    "0001-01-01",
    "../../etc/passwd",
    "%s%n%x",
    "{{ 7*7 }}{% debug %}",
    '=HYPERLINK("http://evil.example")',
    "[]",
    "{}",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=200),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),
)
hostile_files = st.sampled_from(
    [
        ("copy.pdf", b"%PDF-1.7\n" + b"\x00" * 64, "application/pdf"),
        ("copy.pdf", b"not a pdf at all", "application/pdf"),
        ("week.csv", b"Agent ID,Date,Metric,Value\n=cmd|' /C calc'!A0,x,y,z\n", "text/csv"),
        ("week.csv", "\x00\ufeff;;;\n".encode(), "text/csv"),
        ("tool.exe", b"MZ\x90\x00", "application/octet-stream"),
        ("a" * 300 + ".csv", b"Agent ID\n", "text/csv"),
        ("empty.csv", b"", "text/csv"),
    ]
)

# Where the forms of POST-only URLs are shown.
FORM_PAGES = {
    "pips:amendment_submit": "pips:amendment",
    "pips:amendment_decide": "pips:amendment",
    "pips:review_open": "pips:reviews",
    "pips:template_active": "pips:templates",
    "pips:notification_read": "pips:notifications",
    "pips:notifications_read_all": "pips:notifications",
    "logout": "pips:home",
}
# Not fuzzed: the API is refused to every session (tested in test_csrf), and logging out has no
# input.
SKIPPED = {"metrics:api_samples", "logout"}
# Generated submissions per form; together well under two minutes.
EXAMPLES = 8


@dataclass
class FormField:
    name: str
    kind: str  # "text", "hidden", "select", "checkbox", "radio", "file", "textarea", …
    default: str = ""
    options: list[str] = field(default_factory=list)


class FormFinder(HTMLParser):
    """The POST forms of a page, with their fields and default values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, FormField]]] = []
        self._fields: dict[str, FormField] | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form" and attrs.get("method", "get").lower() == "post":
            self._fields = {}
            self.forms.append((attrs.get("action", ""), self._fields))
        if self._fields is None or not attrs.get("name") and tag != "option":
            return
        name = attrs.get("name", "")
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                self._fields.setdefault(name, FormField(name, "submit", attrs.get("value", "")))
            elif kind in ("checkbox", "radio"):
                current = self._fields.setdefault(name, FormField(name, kind))
                current.options.append(attrs.get("value", "on"))
                if "checked" in attrs:
                    current.default = attrs.get("value", "on")
            else:
                self._fields[name] = FormField(name, kind, attrs.get("value", ""))
        elif tag == "textarea":
            self._textarea = self._fields[name] = FormField(name, "textarea")
        elif tag == "select":
            self._select = self._fields[name] = FormField(name, "select")
        elif tag == "option" and self._select is not None:
            self._select.options.append(attrs.get("value", ""))
            if "selected" in attrs:
                self._select.default = attrs.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.default += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            if self._select and not self._select.default and self._select.options:
                self._select.default = self._select.options[0]
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_posting_to(client: Client, page: str, url: str) -> dict[str, FormField]:
    """The fields of the forms on `page` that post to `url` (merged)."""
    response = client.get(page)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return {}
    finder = FormFinder()
    finder.feed(response.content.decode())
    fields: dict[str, FormField] = {}
    for action, found in finder.forms:
        target = urlsplit(action).path or urlsplit(page).path
        if target == urlsplit(url).path:
            fields.update(found)
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def field_value(draw, spec: FormField):
    if spec.kind == "file":
        name, content, content_type = draw(hostile_files)
        return SimpleUploadedFile(name, content, content_type)
    choices = [spec.default, *spec.options] if spec.options else [spec.default]
    if spec.kind == "submit":
        return draw(st.sampled_from(choices))
    return draw(st.one_of(st.sampled_from(choices), hostile_text))


RECORD_MODELS = [
    Pip,
    PipVersion,
    Reason,
    Expectation,
    ActionItem,
    PipTemplate,
    Signature,
    MetricLoad,
    MetricSource,
    Team,
]


def database_state() -> tuple:
    """Row counts of every table of the app (one query), and the plans, their sections,
    templates, signatures and sources as they are: a rejected submission changes none."""
    tables = [
        model._meta.db_table
        for app in ("pips", "metrics", "auth")
        for model in apps.get_app_config(app).get_models()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT "
            + ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})" for t in tables)
        )
        counts = tuple(zip(tables, cursor.fetchone(), strict=True))
    records = tuple(
        tuple(tuple(sorted(row.items())) for row in model.objects.order_by("pk").values())
        for model in RECORD_MODELS
    )
    return counts, records


def rejected(response) -> bool:
    """The submission was refused: the form shown again, an error status, or a redirect with an
    error message."""
    if response.status_code != 302:
        return True
    return any(m.level >= ERROR for m in get_messages(response.wsgi_request))


ENDPOINTS = [(name, role) for name, role in post_endpoints() if name not in SKIPPED]


@pytest.mark.parametrize(("name", "role"), ENDPOINTS, ids=[n for n, _ in ENDPOINTS])
def test_hostile_input_never_breaks_a_form(name, role, build_world, signing):
    row = EXPECTED[name]
    world = build_world(row.state)
    client = world.clients()[role]
    values = world.values()
    route = next(r for r in all_routes() if r.name == name)
    url = url_for(route, values, row.kwargs)
    page = url
    if name in FORM_PAGES:
        source = next(r for r in all_routes() if r.name == FORM_PAGES[name])
        page = url_for(source, values, EXPECTED[source.name].kwargs)
    fields = forms_posting_to(client, page, url)
    if not fields:
        # No form on the page in this state, or one with no field but its button: post the
        # names the app's small forms read (and what an attacker might add).
        fields = {
            name: FormField(name, "text")
            for name in ("active", "open", "kind", "decision", "comment", "next")
        }

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def post_hostile(data):
        form = {spec.name: field_value(data.draw, spec) for spec in fields.values()}
        with transaction.atomic():
            before = database_state()
            response = client.post(url, form)
            assert response.status_code < 500, f"{name}: {response.status_code}"
            if rejected(response):
                assert database_state() == before, f"{name}: a rejected submission saved data"
            transaction.set_rollback(True)

    post_hostile()


# --- uploads -------------------------------------------------------------------------------------


def test_verify_refuses_a_file_over_the_limit(client, sam):
    client.force_login(sam)
    big = SimpleUploadedFile(
        "copy.pdf", b"%PDF-1.7\n" + b"0" * (verify.MAX_UPLOAD_BYTES + 1), "application/pdf"
    )
    response = client.post(reverse("pips:verify"), {"file": big})
    assert response.status_code == 200
    assert "The file is too large" in response.content.decode()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("notes.txt", b"hello", "text/plain"), "This is not a PDF file"),
        (("copy.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"), "This file is not a PDF"),
        (("copy.pdf", b"", "application/pdf"), "The file is empty"),
    ],
)
def test_verify_refuses_what_is_not_a_pdf(client, sam, upload, message):
    client.force_login(sam)
    response = client.post(reverse("pips:verify"), {"file": SimpleUploadedFile(*upload)})
    assert response.status_code == 200
    assert message in response.content.decode()


def test_kpi_upload_refuses_the_wrong_type_and_size(client, people, settings):
    settings.METRICS_UPLOAD_MAX_BYTES = 1024
    client.force_login(people["analyst"])
    loads = MetricLoad.objects.count()
    for name, content, message in [
        ("tool.exe", b"MZ\x90\x00", "Only CSV (.csv, .txt) and Excel (.xlsx) files"),
        ("week.csv", b"Agent ID,Date\n" + b"E1,2025-01-01\n" * 200, "The file is too large"),
    ]:
        response = client.post(
            reverse("metrics:upload"),
            {"new_source": "WFM", "file": SimpleUploadedFile(name, content, "text/csv")},
        )
        assert response.status_code == 200
        assert message in response.content.decode()
    assert MetricLoad.objects.count() == loads
    assert not MetricSource.objects.filter(name="WFM").exists()


# --- CSV exports --------------------------------------------------------------------------------


def test_csv_export_neutralises_formulas(client, harper, sam, alex, make_plan):
    alex.team.name = '=HYPERLINK("http://evil.example","Billing")'
    alex.team.department = "+Sales"
    alex.team.save(update_fields=["name", "department"])
    sam.first_name, sam.last_name = "-2+3", "@SUM(A1)"
    sam.save(update_fields=["first_name", "last_name"])
    make_plan(alex, "active", hr=harper)
    client.force_login(harper)
    response = client.get(reverse("pips:stats_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    assert cells, "the export is empty"
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@")), f"formula in the export: {cell!r}"
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    assert any(cell.startswith("'-2+3") or cell.startswith("'@SUM") for cell in cells)


# --- <script> in every text field ----------------------------------------------------------------


def scripted_plan(alex, sam, template) -> Pip:
    content = plan_content(template)
    content.description = f"Description {SCRIPT}"
    content.reasons[0].text = f"Reason {SCRIPT}"
    content.expectations[0].area = f"Area {SCRIPT}"
    content.expectations[0].improvement_needed = f"Improve {SCRIPT}"
    content.actions[0].action = f"Action {SCRIPT}"
    return services.pip_create(actor=sam, agent=alex, content=content, template=template)


def test_script_shows_as_text_in_page_email_and_pdf(
    client, alex, sam, harper, template, signing, django_capture_on_commit_callbacks
):
    plan = scripted_plan(alex, sam, template)
    alex.user.email = "alex@example.com"
    alex.user.save(update_fields=["email"])
    plan = services.pip_submit(actor=sam, pip=plan)
    plan = services.pip_approve(actor=harper, pip=plan)
    with django_capture_on_commit_callbacks(execute=True):
        plan = services.pip_issue(
            actor=sam,
            pip=plan,
            meeting_held_on=plan.current_version.period_start,
            signature=services.SignatureInput(typed_name="Sam Carter", consent=True),
        )

    # The page.
    client.force_login(alex.user)
    body = client.get(reverse("pips:detail", args=[plan.pk])).content.decode()
    assert SCRIPT not in body
    for where in ("Description", "Reason", "Area", "Action"):
        assert f"{where} &lt;script&gt;alert(1)&lt;/script&gt;" in body

    # The e-mail telling Alex the plan is issued: escaped in HTML, plain in text.
    issued = [m for m in mail.outbox if "alex@example.com" in m.to]
    assert issued, [m.subject for m in mail.outbox]
    for message in issued:
        for html, kind in getattr(message, "alternatives", []):
            if kind == "text/html":
                assert SCRIPT not in html

    # The PDF: the text is there, as text.
    response = client.get(reverse("pips:pdf", args=[plan.pk]))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "alert(1)" in text
    assert "<script>" in text.replace(" ", "")
