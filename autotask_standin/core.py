"""AutotaskStandIn: the stand-in's records, its rules and its Python API for tests.

What it holds is what the desk touches in Autotask: tickets, their notes, companies
and contacts, and the picklist metadata of tickets and notes. What it enforces is
what a real instance enforces on those calls: the three authentication headers,
required fields, active picklist values, an hourly request threshold with added
latency as it nears (50 % and 75 % of it) and HTTP 429 beyond it.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from autotask_standin import picklists
from autotask_standin.wire import API_ROOT, timestamp

if TYPE_CHECKING:
    from autotask_standin.server import StandInServer

#: The root every API path lives under (case-insensitive, as on the real hosts).
DEFAULT_USERNAME = "desk-api@standin.example"
DEFAULT_SECRET = "stand-in-secret"
DEFAULT_INTEGRATION_CODE = "STANDININTEGRATIONCODE"
HOUR_SECONDS = 3600.0
#: Autotask numbers tickets per day in the tenant's own time zone.
TENANT_TIMEZONE = ZoneInfo("Europe/Brussels")
FIRST_ID = 29_680_000


@dataclass
class Fault:
    """A planned misbehaviour for the next request(s) matching ``when`` (``"POST Tickets"``, a regex)."""

    when: re.Pattern | None
    count: int
    status: int | None = None
    errors: list[str] = field(default_factory=list)
    hang_seconds: float = 0.0
    # Do the work, then hang: the client never learns that its create succeeded.
    after_processing: bool = False

    def applies(self, request_line: str) -> bool:
        return self.count > 0 and (self.when is None or self.when.fullmatch(request_line) is not None)


class AutotaskStandIn:
    """A local Autotask PSA REST API on loopback, for tests and demos."""

    def __init__(
        self,
        username: str = DEFAULT_USERNAME,
        secret: str = DEFAULT_SECRET,
        integration_code: str = DEFAULT_INTEGRATION_CODE,
        *,
        hourly_threshold: int = 10_000,
        latency_seconds: tuple[float, float] = (0.5, 1.0),
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.username = username
        self.secret = secret
        self.integration_code = integration_code
        self.hourly_threshold = hourly_threshold
        self.latency_seconds = latency_seconds
        self.host = host
        self.port = port
        self.clock = clock
        self.tickets: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, dict[str, Any]] = {}
        self.companies: dict[int, dict[str, Any]] = {0: self._company_record(0, "Callback Desk (owner)", "")}
        self.contacts: dict[int, dict[str, Any]] = {}
        self.contracts: dict[int, dict[str, Any]] = {}
        self.fields: dict[str, list[dict]] = {
            "Tickets": picklists.ticket_fields(),
            "TicketNotes": picklists.note_fields(),
            "Contacts": picklists.contact_fields(),
            "Companies": picklists.company_fields(),
            "Contracts": picklists.contract_fields(),
        }
        #: Every request as ``(method, path)``, zone look-ups included.
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self._faults: list[Fault] = []
        self._counted: deque[float] = deque()
        self._next_id = FIRST_ID
        self._day_counters: dict[str, int] = {}
        self._server: StandInServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> AutotaskStandIn:
        from autotask_standin.server import StandInServer, create_app

        self.stopping.clear()
        self._server = StandInServer(create_app(self), self.host, self.port)
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests hanging on a fault end at once."""
        self.stopping.set()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> AutotaskStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        port = self._server.port if self._server is not None else self.port
        return f"http://{self.host}:{port}"

    @property
    def zone_url(self) -> str:
        """What the adapter is configured with instead of webservices.autotask.net's zoneInformation."""
        return f"{self.url}{API_ROOT}zoneInformation"

    # -- seeding and inspection -------------------------------------------------------------------

    def add_company(self, name: str, phone: str = "", *, alternate: str = "", fax: str = "") -> int:
        with self.lock:
            company_id = self._new_id()
            self.companies[company_id] = self._company_record(company_id, name, phone, alternate, fax)
            return company_id

    def add_contact(
        self,
        company_id: int,
        first_name: str,
        last_name: str,
        *,
        email: str = "",
        phone: str = "",
        mobile: str = "",
        alternate: str = "",
        active: bool = True,
        language: str = "",
    ) -> int:
        with self.lock:
            contact_id = self._new_id()
            self.contacts[contact_id] = {
                "id": contact_id,
                "companyID": company_id,
                "firstName": first_name,
                "lastName": last_name,
                "emailAddress": email,
                "phone": phone,
                "mobilePhone": mobile,
                "alternatePhone": alternate,
                "isActive": 1 if active else 0,
                "lastActivityDate": timestamp(),
                "lastModifiedDate": timestamp(),
                "userDefinedFields": [{"name": "Language", "value": language}] if language else [],
            }
            return contact_id

    def update_contact(self, contact_id: int, **changes: Any) -> None:
        """Change a contact as a person in Autotask would; its lastModifiedDate moves."""
        with self.lock:
            self.contacts[contact_id].update(changes, lastModifiedDate=timestamp(), lastActivityDate=timestamp())

    def add_contract(self, company_id: int, name: str, start: str, end: str, *, active: bool = True) -> int:
        """A contract of a company; ``start`` and ``end`` are dates (``2026-01-01``)."""
        with self.lock:
            contract_id = self._new_id()
            self.contracts[contract_id] = {
                "id": contract_id,
                "companyID": company_id,
                "contractName": name,
                "startDate": f"{start}T00:00:00Z",
                "endDate": f"{end}T00:00:00Z",
                "status": 1 if active else 0,
            }
            return contract_id

    def ticket_by_number(self, number: str) -> dict[str, Any] | None:
        with self.lock:
            return next((copy.deepcopy(t) for t in self.tickets.values() if t["ticketNumber"] == number), None)

    def notes_of(self, ticket_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [
                copy.deepcopy(n)
                for n in sorted(self.notes.values(), key=lambda n: n["id"])
                if n["ticketID"] == ticket_id
            ]

    def label_of(self, entity: str, field_name: str, value: Any) -> str | None:
        """The label of a picklist value, for assertions in tests."""
        for entry in self.picklist(entity, field_name):
            if entry["value"] == str(value):
                return entry["label"]
        return None

    def picklist(self, entity: str, field_name: str) -> list[dict[str, Any]]:
        for description in self.fields[entity]:
            if description["name"] == field_name:
                return description["picklistValues"] or []
        raise KeyError(f"{entity}.{field_name}")

    def set_picklist(self, entity: str, field_name: str, values: list[dict[str, Any]]) -> None:
        """Replace a picklist (an administrator renamed or renumbered values)."""
        with self.lock:
            for description in self.fields[entity]:
                if description["name"] == field_name:
                    description["picklistValues"] = values
                    return
        raise KeyError(f"{entity}.{field_name}")

    def api_calls(self, method: str | None = None, path_pattern: str | None = None) -> list[tuple[str, str]]:
        """Requests made to the API (zone look-ups excluded), optionally filtered."""
        pattern = re.compile(path_pattern, re.IGNORECASE) if path_pattern else None
        with self.lock:
            return [
                (m, p)
                for m, p in self.requests
                if "zoneinformation" not in p.lower()
                and (method is None or m == method)
                and (pattern is None or pattern.fullmatch(p.split("?")[0]))
            ]

    # -- fault injection --------------------------------------------------------------------------

    def fail_next(
        self, status: int, *, errors: list[str] | None = None, count: int = 1, when: str | None = None
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and an ``errors`` body."""
        default = {401: "User is not authorized.", 429: "Too many requests.", 500: "An internal error occurred."}
        self._plan(Fault(_pattern(when), count, status=status, errors=errors or [default.get(status, "Error.")]))

    def hang_next(self, seconds: float, *, count: int = 1, when: str | None = None) -> None:
        """Answer the next matching requests only after ``seconds`` (a slow or stuck instance)."""
        self._plan(Fault(_pattern(when), count, hang_seconds=seconds))

    def lose_next_response(self, seconds: float, *, when: str = "POST Tickets") -> None:
        """Carry out the next matching request, then hang: its answer never reaches the client."""
        self._plan(Fault(_pattern(when), 1, hang_seconds=seconds, after_processing=True))

    def heal(self) -> None:
        """Drop every planned fault: the instance is back to normal."""
        with self.lock:
            self._faults.clear()

    def _plan(self, fault: Fault) -> None:
        with self.lock:
            self._faults.append(fault)

    def take_fault(self, request_line: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.applies(request_line):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pause(self, seconds: float) -> None:
        """Sleep, but wake up when the stand-in stops."""
        self.stopping.wait(seconds)

    # -- the hourly threshold ---------------------------------------------------------------------

    def count_request(self) -> tuple[int, bool]:
        """Count one API request in the rolling hour; returns (requests in the hour, over threshold).

        A refused request is not counted, so usage falls again as the hour rolls on.
        """
        now = self.clock()
        with self.lock:
            while self._counted and self._counted[0] <= now - HOUR_SECONDS:
                self._counted.popleft()
            used = len(self._counted) + 1
            if used > self.hourly_threshold:
                return used, True
            self._counted.append(now)
        return used, False

    def latency_for(self, used: int) -> float:
        """Autotask slows an integration down as its database nears the hourly threshold."""
        share = used / self.hourly_threshold
        if share >= 0.75:
            return self.latency_seconds[1]
        if share >= 0.5:
            return self.latency_seconds[0]
        return 0.0

    def requests_this_hour(self) -> int:
        now = self.clock()
        with self.lock:
            return sum(1 for moment in self._counted if moment > now - HOUR_SECONDS)

    # -- records ----------------------------------------------------------------------------------

    def _new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def next_ticket_number(self) -> str:
        day = datetime.now(TENANT_TIMEZONE).strftime("%Y%m%d")
        with self.lock:
            self._day_counters[day] = self._day_counters.get(day, 0) + 1
            return f"T{day}.{self._day_counters[day]:04d}"

    def new_id(self) -> int:
        return self._new_id()

    @staticmethod
    def _company_record(company_id: int, name: str, phone: str, alternate: str = "", fax: str = "") -> dict:
        return {
            "id": company_id,
            "companyName": name,
            "phone": phone,
            "alternatePhone1": alternate,
            "alternatePhone2": "",
            "fax": fax,
            "isActive": True,
            "lastActivityDate": timestamp(),
        }


def _pattern(when: str | None) -> re.Pattern | None:
    return re.compile(when, re.IGNORECASE) if when else None
