"""Phone numbers: normalise to E.164, spot withheld caller IDs, format for people.

Every number the desk stores is E.164. Caller IDs arrive from the provider in
many shapes (and sometimes as a placeholder for "withheld"); keyed numbers come
from the caller's keypad without a country code.
"""

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# Placeholders providers send instead of a caller ID (Twilio's documented list).
WITHHELD_CALLER_IDS = frozenset(
    {
        "anonymous",
        "restricted",
        "unknown",
        "private",
        "blocked",
        "+266696687",
        "+7378742833",
        "+2562533",
        "+8656696",
        "+86282452253",
    }
)

MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
#: The only numbers the desk calls back or texts (DESIGN §11): premium-rate, shared-cost,
#: toll-free, personal and other special numbers would make the desk pay, or pay someone.
CALLBACK_TYPES = (PhoneNumberType.FIXED_LINE, *MOBILE_TYPES)


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalise(raw: str | None, region: str = "BE") -> str | None:
    """The E.164 form of a number we can call back, or None (withheld or invalid)."""
    cleaned = (raw or "").strip()
    if not cleaned or cleaned.lower() in WITHHELD_CALLER_IDS or len(cleaned) > 32:
        return None
    number = _parse(cleaned, region)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164) if number else None


def from_keypad(digits: str | None, region: str = "BE") -> str | None:
    """A number keyed by the caller (``0470123456`` or ``0033612345678``), as E.164."""
    keyed = "".join(ch for ch in (digits or "") if ch.isdigit())
    if not 6 <= len(keyed) <= 17:
        return None
    return normalise(keyed, region)


def refusal(e164: str, countries: frozenset[str]) -> str | None:
    """Why the desk will not call this number back ("country", "premium_rate", …), or None."""
    number = _parse(e164, "BE")
    if number is None:
        return "invalid"
    if phonenumbers.region_code_for_number(number) not in countries:
        return "country"
    kind = phonenumbers.number_type(number)
    return None if kind in CALLBACK_TYPES else PhoneNumberType.to_string(kind).lower()


def is_mobile(e164: str) -> bool:
    """True for numbers that can receive an SMS."""
    number = _parse(e164, "BE")
    return number is not None and phonenumbers.number_type(number) in MOBILE_TYPES


def display(e164: str) -> str:
    """As a Belgian reads it: national format for +32, international otherwise."""
    number = _parse(e164, "BE")
    if number is None:
        return e164
    style = PhoneNumberFormat.NATIONAL if number.country_code == 32 else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def spoken(e164: str) -> str:
    """Digit by digit, in the groups people say them in: ``0 4 7 0, 1 2, 3 4, 5 6``."""
    groups = [" ".join(group.lstrip("+")) for group in display(e164).split()]
    if e164.startswith("+") and not display(e164).startswith("0"):
        groups[0] = f"plus {groups[0]}"
    return ", ".join(groups)
