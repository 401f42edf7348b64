"""The phone line: what callers and technicians hear, as provider webhooks.

The inbound call, step by step, as the caller hears it (the ``ivr`` blueprint, /voice):
incoming -> language -> welcome -> main menu -> (ticket number -> ticket menu)
or (record the problem -> can you work? -> who is affected?) -> ticket ->
callback number -> queued (or, for P1, put through live). Each step is a
provider webhook; what the caller said is kept on the call row, and every side
effect (ticket, callback) is keyed so a replay repeats nothing.

The steps live by topic: ivr/opening.py (language, welcome, hours, an open
callback), ivr/incidents.py (an open incident the caller may join),
ivr/tickets.py (an existing ticket), ivr/problem.py (a new problem and its
urgency), ivr/callback_number.py (the number and the queue), ivr/windows.py (a
later time the caller chooses) and ivr/provider.py
(status, recording and fallback webhooks). The technician's leg of a callback
is ivr/agent.py (/voice/agent), urgent calls put through live ivr/urgent.py
(/voice/urgent).
"""

from flask import Blueprint, Flask

bp = Blueprint("ivr", __name__, url_prefix="/voice")


def register(app: Flask) -> None:
    """Attach every webhook to the app (importing a step module attaches its routes to ``bp``)."""
    from ivr import agent, callback_number, incidents, opening, problem, provider, tickets, urgent, windows  # noqa: F401

    app.register_blueprint(bp)
    app.register_blueprint(agent.bp)
    app.register_blueprint(urgent.bp)
