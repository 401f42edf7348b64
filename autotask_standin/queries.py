"""Autotask's JSON query filters, evaluated over the stand-in's records.

A filter is a list of conditions that must all hold; a condition is
``{"op": "eq", "field": "ticketNumber", "value": "T20261127.0042"}`` or a group
``{"op": "or", "items": [...]}``. Field names and string comparisons are
case-insensitive, as they are in Autotask (its database collation).
"""

from collections.abc import Callable
from typing import Any


class QueryError(ValueError):
    """A filter Autotask would refuse; the message is what the API says."""


def _folded(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Compare numbers as numbers even when the filter sends them as strings."""
    if isinstance(left, bool) or isinstance(right, bool):
        return int(left) if isinstance(left, bool) else left, int(right) if isinstance(right, bool) else right
    if isinstance(left, int | float) and isinstance(right, str):
        try:
            return left, type(left)(right)
        except ValueError:
            return str(left), right
    return _folded(left), _folded(right)


def _ordered(check: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(left: Any, right: Any) -> bool:
        if left is None:
            return False
        a, b = _comparable(left, right)
        try:
            return check(a, b)
        except TypeError:
            return False

    return compare


def _text(check: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    return lambda left, right: left is not None and check(str(left).casefold(), str(right).casefold())


def _member(left: Any, right: Any) -> bool:
    if not isinstance(right, list):
        raise QueryError("The 'in' and 'notIn' operators take a list of values.")
    return any(_comparable(left, item)[0] == _comparable(left, item)[1] for item in right)


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _ordered(lambda a, b: a == b),
    "noteq": lambda left, right: not OPERATORS["eq"](left, right),
    "gt": _ordered(lambda a, b: a > b),
    "gte": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b),
    "lte": _ordered(lambda a, b: a <= b),
    "beginswith": _text(str.startswith),
    "endswith": _text(str.endswith),
    "contains": _text(lambda a, b: b in a),
    "exist": lambda left, _right: left not in (None, ""),
    "notexist": lambda left, _right: left in (None, ""),
    "in": _member,
    "notin": lambda left, right: not _member(left, right),
}


def matches(record: dict[str, Any], conditions: list[dict], fields: set[str], entity: str) -> bool:
    """True when ``record`` satisfies every condition (a top-level filter is an AND)."""
    return all(_holds(record, condition, fields, entity) for condition in conditions)


def _holds(record: dict[str, Any], condition: dict, fields: set[str], entity: str) -> bool:
    if not isinstance(condition, dict):
        raise QueryError("Each filter condition must be an object.")
    op = str(condition.get("op", "")).lower()
    if op in ("and", "or"):
        items = condition.get("items")
        if not isinstance(items, list) or not items:
            raise QueryError(f"The '{op}' operator needs a non-empty 'items' list.")
        results = (_holds(record, item, fields, entity) for item in items)
        return all(results) if op == "and" else any(results)
    if op not in OPERATORS:
        raise QueryError(f"Unknown filter operator '{condition.get('op')}'.")
    name = str(condition.get("field", ""))
    actual = {field.casefold(): field for field in fields}.get(name.casefold())
    if actual is None:
        raise QueryError(f"Unable to find {name} in the {entity} entity.")
    if op not in ("exist", "notexist") and "value" not in condition:
        raise QueryError(f"The '{op}' operator on {name} needs a value.")
    return OPERATORS[op](record.get(actual), condition.get("value"))
