"""Autotask PSA as the desk's ticketing system (``TICKET_STORE=autotask``).

``client`` speaks the REST API (zone discovery, the three headers, errors as exceptions),
``picklists`` maps the desk's statuses and priorities to the instance's values by label,
``phones`` keeps the local index of Autotask phone numbers, ``store`` is the ticket store,
and ``sync`` pushes what Autotask has not confirmed yet. ``sync_pending()`` is the sweep
the cron reconciler runs.
"""

from app.autotask.sync import sync_pending

__all__ = ["sync_pending"]
