"""Picklists by label: the desk's statuses and priorities as the instance numbers them.

Each Autotask instance numbers its picklist values itself (a default install has
Critical = 4 and Complete = 5; an administrator may add or rename values). The desk
therefore never hard-codes an id: configuration names labels, and the ids come from
``<entity>/entityInformation/fields``. Only active values are used.
"""

from typing import Any

from flask import current_app

from app.autotask.client import AutotaskClient
from app.autotask.errors import AutotaskConfigError


class Picklists:
    """Label ↔ value for the picklist fields of Autotask entities."""

    def __init__(self, client: AutotaskClient) -> None:
        self.client = client

    def _entries(self, entity: str, field_name: str) -> list[dict[str, Any]]:
        for described in self.client.fields(entity):
            if described.get("name", "").casefold() == field_name.casefold():
                if not described.get("isPickList"):
                    raise AutotaskConfigError(f"{entity}.{field_name} is not a picklist in this Autotask instance.")
                return described.get("picklistValues") or []
        raise AutotaskConfigError(f"{entity} has no field {field_name} in this Autotask instance.")

    def value(self, entity: str, field_name: str, label: str) -> int:
        """The id of the active value labelled ``label`` (case-insensitive)."""
        active = [entry for entry in self._entries(entity, field_name) if entry.get("isActive", True)]
        for entry in active:
            if str(entry.get("label", "")).casefold() == label.strip().casefold():
                return int(entry["value"])
        known = ", ".join(repr(entry.get("label")) for entry in active)
        raise AutotaskConfigError(f"{entity}.{field_name} has no active value labelled {label!r}; it has {known}.")

    def label(self, entity: str, field_name: str, value: Any) -> str | None:
        """The label of ``value`` (active or not), or None."""
        for entry in self._entries(entity, field_name):
            if str(entry.get("value")) == str(value):
                return str(entry.get("label"))
        return None

    # -- the desk's own vocabulary ----------------------------------------------------------------

    def status(self, local_status: str) -> int:
        labels = current_app.config["AUTOTASK_STATUS_LABELS"]
        if local_status not in labels:
            raise AutotaskConfigError(f"AUTOTASK_STATUS_LABELS names no Autotask status for {local_status!r}.")
        return self.value("Tickets", "status", labels[local_status])

    def priority(self, local_priority: int) -> int:
        labels = current_app.config["AUTOTASK_PRIORITY_LABELS"]
        if local_priority not in labels:
            raise AutotaskConfigError(f"AUTOTASK_PRIORITY_LABELS names no Autotask priority for P{local_priority}.")
        return self.value("Tickets", "priority", labels[local_priority])

    def local_status(self, value: Any) -> str | None:
        """The desk's status for an Autotask status value (the first one mapped to its label)."""
        label = self.label("Tickets", "status", value)
        for local, mapped in current_app.config["AUTOTASK_STATUS_LABELS"].items():
            if label is not None and mapped.casefold() == label.casefold():
                return local
        return None

    def local_priority(self, value: Any) -> int | None:
        label = self.label("Tickets", "priority", value)
        for local, mapped in current_app.config["AUTOTASK_PRIORITY_LABELS"].items():
            if label is not None and mapped.casefold() == label.casefold():
                return local
        return None

    def optional(self, entity: str, field_name: str, setting: str) -> int | None:
        """The value a setting names (source, queue), or None when the setting is empty."""
        label = current_app.config[setting]
        return self.value(entity, field_name, label) if label else None
