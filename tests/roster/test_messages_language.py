"""A roster file's refusals are written in the language of the HR person who reads them."""

from __future__ import annotations

import pytest
from django.utils import translation

from pips.roster.forms import MappingForm
from pips.roster.parsing import MappingError, RosterMapping
from tests.catalog_support import translated
from tests.roster.conftest import HEADER, MAPPING, person

pytestmark = pytest.mark.django_db

TEAM_EMPTY = "the team is empty"
HOLDING = "choose the column holding the %(field)s"
SPANISH = {
    TEAM_EMPTY: "el equipo está vacío",
    HOLDING: "elija la columna con: %(field)s",
    "Team": "Equipo",
    "choose a full-name column, or first and last names": (
        "elija una columna de nombre completo, o nombre y apellido"
    ),
}


def test_a_refused_row_reads_in_spanish_for_a_spanish_reader(load, harper):
    rows = [person("E1", "Ana Diaz", team="")]
    with translated("es", SPANISH), translation.override("es"):
        record = load(rows, harper)
    assert record.status == "rejected"
    assert [e["reason"] for e in record.errors] == ["el equipo está vacío"]
    english = load(rows, harper)
    assert [e["reason"] for e in english.errors] == ["the team is empty"]


def test_a_mapping_error_names_its_field_in_any_language():
    """The mapping page puts the message at its field: which field is not read from the
    (translated) text."""
    with translated("es", SPANISH), translation.override("es"):
        with pytest.raises(MappingError) as caught:
            RosterMapping.parse({**MAPPING, "team": ""})
        form = MappingForm(
            {**MAPPING, "full_name": "", "status_values": "", "role_values": ""},
            header=HEADER,
            initial_mapping={},
        )
        assert not form.is_valid()
    assert caught.value.field == "team"
    assert str(caught.value) == "team: elija la columna con: equipo"
    assert form.errors["full_name"] == ["elija una columna de nombre completo, o nombre y apellido"]
