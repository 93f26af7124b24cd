from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from metrics.management.commands.import_metrics import Command
from metrics.models import MetricLoad, MetricSource, Sample
from tests.metrics.conftest import LONG, WIDE, csv_bytes

pytestmark = pytest.mark.django_db

GOOD = csv_bytes(
    "Agent ID,Date,Metric,Value,Contacts",
    "E1,2025-03-03,aht,5:10,12",
    "E1,2025-03-03,qa_score,90 %,2",
)
BAD = csv_bytes(
    "Agent ID,Date,Metric,Value,Contacts",
    "E1,2025-03-03,aht,5:10,12",
    "E1,2025-02-30,aht,5:10,12",
    "E2,2025-03-03,qa_score,190,1",
)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_metrics", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.csv").write_bytes(GOOD)
    (tmp_path / "bad.csv").write_bytes(BAD)
    return tmp_path


def test_loads_with_the_saved_mapping_and_again_changes_nothing(wfm, files):
    out, _ = run(str(files / "good.csv"), "--source", "WFM")
    assert "good.csv: loaded 2 values; 2 inserted or changed, 0 unchanged" in out
    out, _ = run(str(files / "good.csv"), "--source", "WFM")
    assert "0 inserted or changed, 2 unchanged" in out
    assert Sample.objects.count() == 2 and MetricLoad.objects.count() == 2


def test_a_rejected_file_lists_errors_by_line_and_fails(wfm, files):
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"bad.csv: rejected, nothing loaded \(2 errors\)"):
        call_command("import_metrics", str(files / "bad.csv"), "--source", "WFM", stderr=err)
    assert err.getvalue().splitlines() == [
        "line 3, Date: bad date '2025-02-30' (expected YYYY-MM-DD, or set date_format)",
        "line 4, Value: qa_score: value 190 is out of range (0 to 100)",
    ]
    assert not Sample.objects.exists()
    assert MetricLoad.objects.get().status == "rejected"


def test_the_exit_status_is_non_zero_on_rejection(wfm, files, capsys):
    argv = ["manage.py", "import_metrics", str(files / "bad.csv"), "--source", "WFM"]
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(argv)
    assert exit_info.value.code == 1
    assert "line 3, Date: bad date" in capsys.readouterr().err


def test_dry_run_writes_nothing(wfm, files):
    out, _ = run(str(files / "good.csv"), "--source", "WFM", "--dry-run")
    assert "line 2: E1 aht 2025-03-03 310 (weight 12)" in out
    assert "2 values OK (dry run)" in out
    assert not Sample.objects.exists() and not MetricLoad.objects.exists()
    with pytest.raises(CommandError, match="rejected"):
        run(str(files / "bad.csv"), "--source", "WFM", "--dry-run")


def test_mapping_as_json_or_file_and_saving_it(files):
    wide = csv_bytes("Agent ID,Day,QA %,AHT,CSAT", "E1,2025-03-03,88,,0.9")
    (files / "wide.csv").write_bytes(wide)
    (files / "mapping.json").write_text(json.dumps(WIDE))

    with pytest.raises(CommandError, match="unknown source 'QA'"):
        run(str(files / "wide.csv"), "--source", "QA")
    out, _ = run(
        str(files / "wide.csv"), "--source", "QA", "--mapping", str(files / "mapping.json"),
        "--save-mapping",
    )  # fmt: skip
    assert "loaded 2 values" in out
    assert MetricSource.objects.get(name="QA").mapping == WIDE

    MetricSource.objects.create(name="ACD", mapping={})
    out, _ = run(str(files / "good.csv"), "--source", "ACD", "--mapping", json.dumps(LONG))
    assert "loaded 2 values" in out
    with pytest.raises(CommandError, match="no saved column mapping"):
        run(str(files / "good.csv"), "--source", "ACD")
    with pytest.raises(CommandError, match="--mapping: mapping is not valid JSON"):
        run(str(files / "good.csv"), "--source", "ACD", "--mapping", "{oops")
    with pytest.raises(CommandError, match="no such file"):
        run(str(files / "missing.csv"), "--source", "ACD")
