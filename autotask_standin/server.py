"""The HTTP side of the stand-in: Autotask's REST paths, request and response shapes.

Paths live under ``/atservicesrest/v1.0/`` (any case). Every answer is JSON: ``{"item": …}``
for one record, ``{"items": […], "pageDetails": {…}}`` for a query, ``{"itemId": n}`` for a
create or update and ``{"errors": ["…"]}`` for a refusal.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request
from werkzeug.serving import WSGIRequestHandler, make_server

from autotask_standin.queries import QueryError, matches
from autotask_standin.wire import API_ROOT, timestamp

if TYPE_CHECKING:
    from autotask_standin.core import AutotaskStandIn

MAX_RECORDS = 500
ENTITIES = {
    "tickets": "Tickets",
    "ticketnotes": "TicketNotes",
    "contacts": "Contacts",
    "companies": "Companies",
    "contracts": "Contracts",
}

Answer = tuple[int, dict[str, Any]]


def errors(status: int, *messages: str) -> Answer:
    return status, {"errors": list(messages)}


class StandInApi:
    """Routes every request through authentication, the threshold and planned faults to a handler."""

    def __init__(self, standin: AutotaskStandIn) -> None:
        self.standin = standin
        self.app = Flask("autotask_standin")
        self.app.add_url_rule("/<path:path>", "api", self.handle, methods=["GET", "POST", "PATCH", "PUT", "DELETE"])

    # -- the pipeline -------------------------------------------------------------------------

    def handle(self, path: str) -> Response:
        standin = self.standin
        full = "/" + path + (f"?{request.query_string.decode()}" if request.query_string else "")
        with standin.lock:
            standin.requests.append((request.method, full))
        if not ("/" + path).lower().startswith(API_ROOT):
            return self.respond(*errors(404, f"No resource at /{path}."))
        sub = ("/" + path)[len(API_ROOT) :]
        if sub.lower() == "zoneinformation":
            return self.respond(*self.zone_information())
        if not self.authenticated():
            return self.respond(
                *errors(401, "Authentication failed: check the UserName, Secret and ApiIntegrationCode.")
            )
        used, over = standin.count_request()
        if over:
            message = (
                f"The request has exceeded the threshold of {standin.hourly_threshold} requests per hour. "
                "Further requests are refused until usage falls below the threshold."
            )
            return self.respond(*errors(429, message))
        fault = standin.take_fault(f"{request.method} {sub}")
        if fault is not None and not fault.after_processing:
            standin.pause(fault.hang_seconds)
            if fault.status is not None:
                return self.respond(*errors(fault.status, *fault.errors))
        standin.pause(standin.latency_for(used))
        answer = self.dispatch(request.method, sub)
        if fault is not None and fault.after_processing:
            standin.pause(fault.hang_seconds)
        return self.respond(*answer)

    def respond(self, status: int, body: dict[str, Any]) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def authenticated(self) -> bool:
        headers, standin = request.headers, self.standin
        return (
            headers.get("UserName") == standin.username
            and headers.get("Secret") == standin.secret
            and headers.get("ApiIntegrationCode") == standin.integration_code
        )

    def body(self) -> Any:
        try:
            return json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            return None

    def dispatch(self, method: str, sub: str) -> Answer:
        parts = sub.split("/")
        entity = ENTITIES.get(parts[0].lower())
        lowered = [part.lower() for part in parts]
        if lowered == ["thresholdinformation"] and method == "GET":
            return self.threshold_information()
        if entity is None:
            return errors(404, f"No resource named {parts[0]}.")
        if lowered[1:] == ["entityinformation", "fields"] and method == "GET":
            return 200, {"fields": self.standin.fields[entity]}
        if lowered[1:] == ["entityinformation"] and method == "GET":
            return 200, {"info": {"name": entity, "canCreate": True, "canQuery": True, "canUpdate": True}}
        if lowered[1:] == ["query"] and method in ("GET", "POST"):
            search = request.args.get("search") if method == "GET" else None
            return self.query(entity, json.loads(search) if search else self.body())
        if lowered[1:] == ["query", "next"] and method == "GET":
            return self.next_page(entity, request.args.get("paging", ""))
        if len(parts) == 1 and entity == "Tickets" and method == "POST":
            return self.create_ticket(self.body())
        if len(parts) == 1 and entity == "Tickets" and method == "PATCH":
            return self.update_ticket(self.body())
        if len(parts) == 2 and parts[1].isdigit() and method == "GET":
            return 200, {"item": self.records(entity).get(int(parts[1]))}
        if entity == "Tickets" and len(parts) == 3 and parts[1].isdigit() and lowered[2] == "notes":
            if method == "POST":
                return self.create_note(int(parts[1]), self.body())
            if method == "GET":
                return 200, self.page([n for n in self.standin.notes.values() if n["ticketID"] == int(parts[1])])
        return errors(405, f"{method} is not supported on {sub}.")

    # -- zone and threshold -------------------------------------------------------------------

    def zone_information(self) -> Answer:
        if request.args.get("user", "").casefold() != self.standin.username.casefold():
            return errors(500, "Zone information could not be found for this user.")
        return 200, {
            "zoneName": "Stand-in",
            "url": f"{self.standin.url}/ATServicesRest/",
            "webUrl": f"{self.standin.url}/",
            "ci": 0,
        }

    def threshold_information(self) -> Answer:
        return 200, {
            "externalRequestThreshold": self.standin.hourly_threshold,
            "requestThresholdTimeframe": 60,
            "currentTimeframeRequestCount": self.standin.requests_this_hour(),
        }

    # -- queries ------------------------------------------------------------------------------

    def records(self, entity: str) -> dict[int, dict[str, Any]]:
        standin = self.standin
        return {
            "Tickets": standin.tickets,
            "TicketNotes": standin.notes,
            "Contacts": standin.contacts,
            "Companies": standin.companies,
            "Contracts": standin.contracts,
        }[entity]

    def query(self, entity: str, body: Any, after_id: int | None = None) -> Answer:
        if not isinstance(body, dict) or not isinstance(body.get("filter"), list) or not body["filter"]:
            return errors(400, "A query needs a non-empty 'filter' list.")
        max_records = body.get("maxRecords", MAX_RECORDS)
        if not isinstance(max_records, int) or not 1 <= max_records <= MAX_RECORDS:
            return errors(400, f"maxRecords must be between 1 and {MAX_RECORDS}.")
        names = {description["name"] for description in self.standin.fields[entity]}
        with self.standin.lock:
            candidates = sorted(self.records(entity).values(), key=lambda record: record["id"])
            try:
                found = [
                    r
                    for r in candidates
                    if (after_id is None or r["id"] > after_id) and matches(r, body["filter"], names, entity)
                ]
            except QueryError as error:
                return errors(400, str(error))
            found = [dict(record) for record in found]
        page, rest = found[:max_records], found[max_records:]
        next_url = None
        if rest:
            token = {"filter": body["filter"], "maxRecords": max_records, "after": page[-1]["id"]}
            encoded = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
            next_url = f"{self.standin.url}/ATServicesRest/V1.0/{entity}/query/next?paging={encoded}"
        return 200, self.page(page, max_records, next_url)

    def next_page(self, entity: str, paging: str) -> Answer:
        try:
            token = json.loads(base64.urlsafe_b64decode(paging.encode()))
        except ValueError:
            return errors(400, "The paging token is not valid.")
        return self.query(entity, {"filter": token["filter"], "maxRecords": token["maxRecords"]}, token["after"])

    @staticmethod
    def page(items: list[dict], requested: int = MAX_RECORDS, next_url: str | None = None) -> dict[str, Any]:
        details = {"count": len(items), "requestCount": requested, "prevPageUrl": None, "nextPageUrl": next_url}
        return {"items": items, "pageDetails": details}

    # -- tickets and notes ----------------------------------------------------------------------

    def create_ticket(self, body: Any) -> Answer:
        if not isinstance(body, dict):
            return errors(400, "The request body must be a ticket object.")
        problems = self.ticket_problems(body, creating=True)
        if problems:
            return errors(400, *problems)
        standin = self.standin
        with standin.lock:
            ticket_id = standin.new_id()
            now = timestamp()
            ticket = {name: None for name in (d["name"] for d in standin.fields["Tickets"])}
            ticket.update(self.writable(body))
            ticket.update(
                id=ticket_id,
                ticketNumber=standin.next_ticket_number(),
                createDate=now,
                lastActivityDate=now,
                completedDate=now if self.is_complete(ticket["status"]) else None,
            )
            standin.tickets[ticket_id] = ticket
        return 200, {"itemId": ticket_id}

    def update_ticket(self, body: Any) -> Answer:
        if not isinstance(body, dict) or not isinstance(body.get("id"), int):
            return errors(400, "An update needs the ticket's 'id'.")
        with self.standin.lock:
            ticket = self.standin.tickets.get(body["id"])
            if ticket is None:
                return errors(404, f"Ticket {body['id']} does not exist.")
            problems = self.ticket_problems({**ticket, **body}, creating=False)
            if problems:
                return errors(400, *problems)
            ticket.update(self.writable(body))
            ticket["lastActivityDate"] = timestamp()
            ticket["completedDate"] = ticket["completedDate"] or (
                timestamp() if self.is_complete(ticket["status"]) else None
            )
            if not self.is_complete(ticket["status"]):
                ticket["completedDate"] = None
        return 200, {"itemId": body["id"]}

    def create_note(self, ticket_id: int, body: Any) -> Answer:
        if not isinstance(body, dict):
            return errors(400, "The request body must be a note object.")
        standin = self.standin
        if ticket_id not in standin.tickets:
            return errors(404, f"Ticket {ticket_id} does not exist.")
        if body.get("ticketID") not in (None, ticket_id):
            return errors(400, "The note's ticketID does not match the ticket in the URL.")
        problems = self.required_and_picklists("TicketNotes", {**body, "ticketID": ticket_id}, creating=True)
        if problems:
            return errors(400, *problems)
        with standin.lock:
            note_id = standin.new_id()
            note = {"id": note_id, "createDateTime": timestamp()}
            note.update({k: v for k, v in body.items() if k in ("title", "description", "noteType", "publish")})
            note["ticketID"] = ticket_id
            for name in ("noteType", "publish"):
                note[name] = int(note[name])
            standin.notes[note_id] = note
            standin.tickets[ticket_id]["lastActivityDate"] = note["createDateTime"]
        return 200, {"itemId": note_id}

    def writable(self, body: dict[str, Any]) -> dict[str, Any]:
        """The fields a client may set; picklist values are stored as integers."""
        described = {d["name"]: d for d in self.standin.fields["Tickets"]}
        values = {}
        for name, value in body.items():
            description = described.get(name)
            if description is None or description["isReadOnly"]:
                continue
            values[name] = int(value) if description["isPickList"] and value not in (None, "") else value
        return values

    def ticket_problems(self, ticket: dict[str, Any], creating: bool) -> list[str]:
        problems = self.required_and_picklists("Tickets", ticket, creating)
        company_id = ticket.get("companyID")
        if company_id not in (None, "") and int(company_id) not in self.standin.companies:
            problems.append(f"Company {company_id} does not exist.")
        contact_id = ticket.get("contactID")
        if contact_id not in (None, ""):
            contact = self.standin.contacts.get(int(contact_id))
            if contact is None or contact["companyID"] != int(company_id or 0):
                problems.append(f"Contact {contact_id} does not belong to company {company_id}.")
        problem_id = ticket.get("problemTicketId")
        if problem_id not in (None, ""):
            problem = self.standin.tickets.get(int(problem_id))
            if problem is None:
                problems.append(f"Ticket {problem_id} does not exist.")
            elif self.standin.label_of("Tickets", "ticketType", problem.get("ticketType")) != "Problem":
                problems.append(f"Ticket {problem_id} is not a Problem ticket.")
        if len(str(ticket.get("title") or "")) > 255:
            problems.append("The title is longer than 255 characters.")
        if len(str(ticket.get("externalID") or "")) > 50:
            problems.append("The externalID is longer than 50 characters.")
        return problems

    def required_and_picklists(self, entity: str, record: dict[str, Any], creating: bool) -> list[str]:
        problems = []
        for description in self.standin.fields[entity]:
            name, value = description["name"], record.get(description["name"])
            if creating and description["isRequired"] and not description["isReadOnly"] and value in (None, ""):
                problems.append(f"Value does not exist for the required field {name}.")
            elif description["isPickList"] and value not in (None, ""):
                active = {entry["value"] for entry in description["picklistValues"] if entry["isActive"]}
                if str(value) not in active:
                    problems.append(f"The value '{value}' is not a valid, active value of the {name} picklist.")
        return problems

    def is_complete(self, status: Any) -> bool:
        return self.standin.label_of("Tickets", "status", status) == "Complete"


class QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class StandInServer:
    """Serves the stand-in with werkzeug in a daemon thread."""

    def __init__(self, app: Flask, host: str, port: int) -> None:
        self.server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_port

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def create_app(standin: AutotaskStandIn) -> Flask:
    return StandInApi(standin).app
