"""The board's CSV export defuses text a spreadsheet would run as a formula, tab and carriage return included."""

import pytest

from app.web.filters import spreadsheet_safe


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"])
def test_formula_starts_get_a_leading_quote(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["Printer jammed", "", "0470 12 34 56", " =1"])
def test_plain_text_is_left_alone(text):
    assert spreadsheet_safe(text) == text
