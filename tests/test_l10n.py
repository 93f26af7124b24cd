"""Numbers, percentages, durations, dates and times as each language writes them, with the
time's zone always named."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from metrics.models import Kpi, Unit
from pipsystem import l10n

MOMENT = dt.datetime(2026, 11, 29, 15, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "87.1 %"), ("es", "87,1\xa0%"), ("fr", "87,1\xa0%"), ("pt-br", "87,1%")],
)
def test_percent(language, shown):
    with translation.override(language):
        assert l10n.percent(87.06) == shown
        assert l10n.percent(100.0).startswith("100") and "," not in l10n.percent(100.0)


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "1,234.5"), ("es", "1\xa0234,5"), ("fr", "1\xa0234,5"), ("pt-br", "1.234,5")],
)
def test_number_grouping_and_decimals(language, shown):
    with translation.override(language):
        assert l10n.number(1234.5) == shown


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "29 Nov 2026"), ("es", "29/11/2026"), ("fr", "29/11/2026"), ("pt-br", "29/11/2026")],
)
def test_dates(language, shown):
    with translation.override(language):
        assert l10n.date(dt.date(2026, 11, 29)) == shown


def test_long_dates_name_the_month_in_the_language():
    with translation.override("es"):
        assert l10n.date(dt.date(2026, 11, 29), long=True) == "29 de noviembre de 2026"
    with translation.override("fr"):
        assert l10n.date(dt.date(2026, 11, 29), long=True) == "29 novembre 2026"
    with translation.override("pt-br"):
        assert l10n.date(dt.date(2026, 11, 29), long=True) == "29 de Novembro de 2026"


def test_times_carry_their_zone():
    with translation.override("en"):
        assert l10n.time(MOMENT, "America/New_York") == "10:00 EST"
        assert l10n.datetime(MOMENT, "America/New_York") == "29 Nov 2026 10:00 EST"
    with translation.override("fr"):
        # Canadian French writes hours with "h".
        assert l10n.time(MOMENT, "America/Toronto") == "10\xa0h\xa000 EST"
    with translation.override("pt-br"):
        # São Paulo has no letters of its own for its zone: its name is shown.
        assert l10n.datetime(MOMENT, "America/Sao_Paulo") == "29/11/2026 12:00 America/Sao_Paulo"


def test_durations():
    assert l10n.clock_duration(307) == "5:07"
    assert l10n.clock_duration(-61) == "-1:01"
    with translation.override("es"):
        assert l10n.days(30) == "30 días"
        assert l10n.days(1) == "1 día"
    with translation.override("fr"):
        assert l10n.days(30) == "30 jours"
    with translation.override("pt-br"):
        assert l10n.days(30) == "30 dias"


@pytest.mark.parametrize(
    ("language", "qa", "aht"),
    [("en", "87.1 %", "5:07"), ("es", "87,1\xa0%", "5:07"), ("pt-br", "87,1%", "5:07")],
)
def test_kpi_values_in_the_readers_language(language, qa, aht):
    with translation.override(language):
        assert Kpi(unit=Unit.PERCENT).format_value(87.1) == qa
        assert Kpi(unit=Unit.SECONDS).format_value(307) == aht
