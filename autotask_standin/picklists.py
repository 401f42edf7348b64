"""Field metadata the stand-in serves from ``<Entity>/entityInformation/fields``.

The picklist values deliberately look like a real instance's (Critical is 4, not 1; queues
have large ids) so that an adapter which hard-codes ids instead of mapping labels fails.
"""

from typing import Any


def picklist(*values: tuple[int, str] | tuple[int, str, bool]) -> list[dict[str, Any]]:
    """Picklist entries in Autotask's shape; a third element False marks an inactive value."""
    entries = []
    for order, value in enumerate(values, start=1):
        number, label, *active = value
        entries.append(
            {
                "value": str(number),
                "label": label,
                "isDefaultValue": False,
                "sortOrder": order,
                "parentValue": "",
                "isActive": active[0] if active else True,
                "isSystem": number < 100,
            }
        )
    return entries


def field(name: str, data_type: str = "string", *, required: bool = False, read_only: bool = False, **extra) -> dict:
    """One field description; picklist fields pass ``picklistValues``."""
    values = extra.pop("picklistValues", None)
    return {
        "name": name,
        "dataType": data_type,
        "length": extra.pop("length", 0),
        "isRequired": required,
        "isReadOnly": read_only,
        "isQueryable": True,
        "isReference": extra.pop("isReference", False),
        "referenceEntityType": extra.pop("referenceEntityType", ""),
        "isPickList": values is not None,
        "picklistValues": values,
        "picklistParentValueField": "",
        "isSupportedWebhookField": False,
    }


def ticket_fields() -> list[dict]:
    return [
        field("id", "long", read_only=True),
        field("ticketNumber", "string", read_only=True, length=50),
        field("title", "string", required=True, length=255),
        field("description", "string", length=8000),
        field("companyID", "integer", required=True, isReference=True, referenceEntityType="Company"),
        field("contactID", "integer", isReference=True, referenceEntityType="Contact"),
        field("dueDateTime", "datetime", required=True),
        field("externalID", "string", length=50),
        field("createDate", "datetime", read_only=True),
        field("completedDate", "datetime", read_only=True),
        field("lastActivityDate", "datetime", read_only=True),
        field(
            "status",
            "integer",
            required=True,
            picklistValues=picklist(
                (1, "New"),
                (8, "In Progress"),
                (17, "Waiting Customer", False),
                (7, "Waiting Customer"),
                (9, "Waiting Materials"),
                (5, "Complete"),
            ),
        ),
        field(
            "priority",
            "integer",
            required=True,
            picklistValues=picklist((1, "High"), (2, "Medium"), (3, "Low"), (4, "Critical")),
        ),
        # Autotask's ticket categories; an Incident may name the Problem it is part of (problemTicketId).
        field(
            "ticketType",
            "integer",
            picklistValues=picklist(
                (1, "Service Request"), (2, "Incident"), (3, "Problem"), (4, "Change Request"), (5, "Alert")
            ),
        ),
        field("problemTicketId", "integer", isReference=True, referenceEntityType="Ticket"),
        field(
            "source",
            "integer",
            picklistValues=picklist((-1, "Client Portal"), (2, "Phone"), (4, "E-mail"), (8, "Monitoring Alert")),
        ),
        field(
            "queueID",
            "integer",
            picklistValues=picklist(
                (5, "Client Portal"),
                (6, "Post Sale"),
                (29682833, "Level I Support"),
                (29682969, "Level II Support"),
            ),
        ),
    ]


def note_fields() -> list[dict]:
    return [
        field("id", "long", read_only=True),
        field("ticketID", "integer", required=True, isReference=True, referenceEntityType="Ticket"),
        field("title", "string", required=True, length=250),
        field("description", "string", required=True, length=32000),
        field("createDateTime", "datetime", read_only=True),
        field(
            "noteType",
            "integer",
            required=True,
            picklistValues=picklist((1, "Task Detail"), (2, "Task Notes"), (3, "Task Summary")),
        ),
        field(
            "publish",
            "integer",
            required=True,
            picklistValues=picklist((1, "All Autotask Users"), (2, "Internal Only")),
        ),
    ]


def contact_fields() -> list[dict]:
    return [
        field("id", "long", read_only=True),
        field("companyID", "integer", required=True, isReference=True, referenceEntityType="Company"),
        field("firstName", "string", required=True, length=50),
        field("lastName", "string", required=True, length=50),
        field("emailAddress", "string", length=254),
        field("phone", "string", length=25),
        field("mobilePhone", "string", length=25),
        field("alternatePhone", "string", length=32),
        field("isActive", "integer", required=True),
        # https://ww1.autotask.net/help/Developerhelp/Content/APIs/REST/General_Topics/REST_BestPractices.htm:
        # Contact has both lastActivityDate and lastModifiedDate, for incremental reads.
        field("lastActivityDate", "datetime", read_only=True),
        field("lastModifiedDate", "datetime", read_only=True),
    ]


def company_fields() -> list[dict]:
    return [
        field("id", "long", read_only=True),
        field("companyName", "string", required=True, length=100),
        field("phone", "string", length=25),
        field("alternatePhone1", "string", length=25),
        field("alternatePhone2", "string", length=25),
        field("fax", "string", length=25),
        field("isActive", "boolean"),
        # Company has lastActivityDate only (same best-practices page).
        field("lastActivityDate", "datetime", read_only=True),
    ]


def contract_fields() -> list[dict]:
    """Contracts: no last-modified field is exposed, so new ones are read by id."""
    return [
        field("id", "long", read_only=True),
        field("companyID", "integer", required=True, isReference=True, referenceEntityType="Company"),
        field("contractName", "string", required=True, length=100),
        field("startDate", "datetime", required=True),
        field("endDate", "datetime", required=True),
        field(
            "status", "integer", required=True, isPickList=True, picklistValues=picklist((0, "Inactive"), (1, "Active"))
        ),
    ]
