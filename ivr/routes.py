"""The inbound call, step by step, as the caller hears it.

incoming -> language -> welcome -> main menu -> (ticket number -> ticket menu)
or (record the problem -> can you work? -> who is affected?) -> ticket ->
callback number -> queued (or, for P1, put through live: ivr/urgent.py).
Each step is a provider webhook; what the caller said is kept on the call row,
and every side effect (ticket, callback) is keyed so a replay repeats nothing.
Importing this module attaches every step to the blueprint.
"""

from ivr import callback_number, opening, problem, provider, tickets
from ivr.steps import bp

__all__ = ["bp", "callback_number", "opening", "problem", "provider", "tickets"]
