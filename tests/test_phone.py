import pytest

from app import phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+32470123456", "+32470123456"),
        ("0470 12 34 56", "+32470123456"),
        ("0032 3 460 35 35", "+3234603535"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+447911123456", "+447911123456"),
    ],
)
def test_it_normalises_to_e164(raw, expected):
    assert phone.normalise(raw) == expected


@pytest.mark.parametrize(
    "withheld",
    [
        "anonymous",
        "Restricted",
        "unknown",
        "+266696687",
        "+7378742833",
        "+2562533",
        "+8656696",
        "+86282452253",
        "",
        None,
    ],
)
def test_withheld_caller_ids_are_not_numbers(withheld):
    assert phone.normalise(withheld) is None


@pytest.mark.parametrize("garbage", ["12", "abc", "+32 1", "0" * 40, "+3247012345678901234", "\x00\x01", "☎"])
def test_invalid_numbers_are_not_numbers(garbage):
    assert phone.normalise(garbage) is None


def test_it_tells_mobiles_from_landlines():
    assert phone.is_mobile("+32470123456")
    assert not phone.is_mobile("+3234603535")


def test_belgian_numbers_display_in_national_format_and_others_internationally():
    assert phone.display("+32470123456") == "0470 12 34 56"
    assert phone.display("+3234603535") == "03 460 35 35"
    assert phone.display("+33612345678") == "+33 6 12 34 56 78"


def test_numbers_are_spoken_digit_by_digit_in_groups():
    assert phone.spoken("+32470123456") == "0 4 7 0, 1 2, 3 4, 5 6"
    assert phone.spoken("+33612345678") == "plus 3 3, 6, 1 2, 3 4, 5 6, 7 8"


@pytest.mark.parametrize(
    ("keys", "expected"),
    [("0470123456", "+32470123456"), ("0033612345678", "+33612345678"), ("123", None), ("", None), ("9" * 30, None)],
)
def test_keyed_numbers_are_read_in_the_desk_region(keys, expected):
    assert phone.from_keypad(keys) == expected
