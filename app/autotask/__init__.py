"""The Autotask PSA REST API, as the desk's ticket store and directory use it.

``client`` speaks the REST API (zone discovery, the three headers, errors as
exceptions) and ``picklists`` maps the desk's statuses and priorities to the
instance's values by label. The ticket store built on it is app/tickets/autotask/,
the phone index of its contacts app/directory/autotask_phones.py.
"""
