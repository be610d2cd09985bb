"""The guide's option table is what aro/config.py defines, so it cannot drift."""

from pathlib import Path

import pytest

from aro.config import OPTIONS
from aro.reference import options_table, with_table

PAGE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "configuration.md"


def test_the_configuration_page_shows_the_current_table():
    page = PAGE.read_text()
    assert with_table(page) == page, "run: python -m aro.reference --write " + str(PAGE)


def test_every_option_has_a_row_with_its_flag_and_variable():
    table = options_table()
    for item in OPTIONS:
        for name in (item.metadata["flag"], item.metadata["env"]):
            if name:
                assert f"`{name}`" in table


def test_a_page_without_markers_is_refused():
    with pytest.raises(ValueError, match="markers"):
        with_table("no table here")
