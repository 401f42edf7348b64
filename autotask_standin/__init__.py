"""A local stand-in for the Autotask PSA REST API, served on loopback.

It implements the calls the desk makes — zoneInformation, Tickets (query, create, update,
read), ticket notes, Contacts and Companies queries, entityInformation/fields picklists
and ThresholdInformation — with Autotask's request and response shapes, its error bodies
and its hourly request threshold::

    standin = AutotaskStandIn(hourly_threshold=100).start()
    standin.add_company("Brouwerij De Klok", phone="03 230 45 67")
    app.config["AUTOTASK_ZONE_URL"] = standin.zone_url
"""

from autotask_standin.core import AutotaskStandIn

__all__ = ["AutotaskStandIn"]
