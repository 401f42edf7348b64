"""How urgent a caller's problem is: the two questions and the priority matrix."""

from flask import current_app

#: Keys of the first question: can the caller keep working?
URGENCIES = {"1": "can_work", "2": "cannot_work"}
#: Keys of the second question: who is affected?
IMPACTS = {"1": "me", "2": "several", "3": "company"}
#: Priority of a caller whose answers are unknown (hung up, or no keys).
UNKNOWN_PRIORITY = 3


def priority_for(urgency: str | None, impact: str | None) -> int:
    """1 (highest) to 4, from the configured matrix (DESIGN §3.7)."""
    if urgency is None or impact is None:
        return UNKNOWN_PRIORITY
    return current_app.config["PRIORITY_MATRIX"].get((urgency, impact), UNKNOWN_PRIORITY)
