"""The OpenAPI 3.0 document of the JSON API, served at /api/openapi.json.

Written by hand next to the views it describes; tests/test_api_schema.py runs
schemathesis against it, so a view that drifts from it fails the suite.
"""

from app.models import CallbackStatus, TechnicianState

ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {**TIME, "nullable": True}
PRIORITY = {"type": "integer", "minimum": 1, "maximum": 4}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    """The error answers of an operation; every one may also answer 503 (app/errors.py)."""
    meaning = {
        400: "Bad input",
        401: "No valid bearer token",
        403: "Not allowed for this role",
        404: "Not found",
        409: "Not possible in the current state",
        503: "The database or Redis does not answer; nothing was changed. Retry after `Retry-After` seconds.",
    }
    return {str(status): _json(_ref("Error"), meaning[status]) for status in (*statuses, 503)}


def _id_parameter(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": ID}


SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    },
    "QueueEntry": {
        "type": "object",
        "required": [
            "id",
            "status",
            "priority",
            "phone",
            "ticket_number",
            "position",
            "attempts",
            "language",
            "scheduled_for",
        ],
        "properties": {
            "id": ID,
            "status": {"type": "string", "enum": [status.value for status in CallbackStatus]},
            "priority": PRIORITY,
            "phone": {"type": "string", "description": "E.164"},
            "ticket_number": {"type": "string"},
            "position": {"type": "integer", "minimum": 1, "nullable": True, "description": "Waiting ones only"},
            "attempts": {"type": "integer", "minimum": 0},
            "language": {"type": "string"},
            "scheduled_for": {
                "type": "string",
                "format": "date-time",
                "nullable": True,
                "description": "The start of the window the caller chose (UTC); null: as soon as possible",
            },
            "outcomes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Each attempt's outcome, in order (connected, voicemail, wrong_number, no_answer, …)",
            },
            "wrong_number": {"type": "boolean", "description": "A technician reached someone else on this number"},
        },
    },
    "Technician": {
        "type": "object",
        "required": ["id", "name", "phone", "state", "languages"],
        "properties": {
            "id": ID,
            "name": {"type": "string"},
            "phone": {"type": "string"},
            "state": {"type": "string", "enum": [state.value for state in TechnicianState]},
            "languages": {"type": "array", "items": {"type": "string"}},
            "state_since": TIME,
        },
    },
    "Attempt": {
        "type": "object",
        "required": ["id", "technician_id", "status", "outcome", "started_at", "ended_at", "talk_seconds"],
        "properties": {
            "id": ID,
            "technician_id": ID,
            "status": {"type": "string"},
            "outcome": {"type": "string", "nullable": True},
            "started_at": TIME,
            "ended_at": NULLABLE_TIME,
            "talk_seconds": {"type": "integer", "nullable": True},
            "answered_by": {
                "type": "string",
                "nullable": True,
                "description": "Answering-machine detection on the customer's leg (human, machine_start, …)",
            },
        },
    },
    "Ticket": {
        "type": "object",
        "required": ["number", "title", "status", "priority", "notes"],
        "properties": {
            "number": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string", "nullable": True},
            "status": {"type": "string"},
            "priority": {"type": "integer"},
            "caller_phone": {"type": "string", "nullable": True},
            "contact": {"type": "string", "nullable": True},
            "company": {"type": "string", "nullable": True},
            "contract": {"type": "string", "nullable": True},
            "created_at": TIME,
            "closed_at": NULLABLE_TIME,
            "notes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["body", "created_at"],
                    "properties": {"body": {"type": "string"}, "created_at": TIME},
                },
            },
        },
    },
}
SCHEMAS["Callback"] = {
    "allOf": [
        _ref("QueueEntry"),
        {
            "type": "object",
            "required": ["technician_id", "queued_at", "due_at", "status_since", "ended_at", "attempt_history"],
            "properties": {
                "technician_id": {**ID, "nullable": True},
                "queued_at": TIME,
                "due_at": TIME,
                "status_since": TIME,
                "ended_at": NULLABLE_TIME,
                "attempt_history": {"type": "array", "items": _ref("Attempt")},
            },
        },
    ]
}

RATING_COUNT = {"type": "integer", "minimum": 0}
SCHEMAS["Csat"] = {
    "type": "object",
    "required": ["since", "ratings", "average", "distribution", "surveys_sent", "response_rate"],
    "properties": {
        "since": TIME,
        "ratings": {**RATING_COUNT, "description": "Ratings given since then"},
        "average": {"type": "number", "minimum": 1, "maximum": 5, "nullable": True},
        "distribution": {
            "type": "object",
            "required": ["1", "2", "3", "4", "5"],
            "properties": {str(rating): RATING_COUNT for rating in range(1, 6)},
            "description": "Ratings given since then, per score (1 = very dissatisfied, 5 = very satisfied)",
        },
        "surveys_sent": {**RATING_COUNT, "description": "Survey mails sent since then"},
        "response_rate": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "nullable": True,
            "description": "Share of the surveys sent since then that are rated",
        },
    },
}


def document() -> dict:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Callback Desk API",
            "version": "1.0.0",
            "description": "The callback queue, technicians and tickets of the service desk.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "The OpenAPI document")},
                }
            },
            "/api/queue": {
                "get": {
                    "summary": "Callbacks in every state (waiting ones with their position) and all technicians",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["callbacks", "technicians"],
                                "properties": {
                                    "callbacks": {"type": "array", "items": _ref("QueueEntry")},
                                    "technicians": {"type": "array", "items": _ref("Technician")},
                                },
                            },
                            "The queue",
                        ),
                        **_errors(401, 403),
                    },
                }
            },
            "/api/technicians": {
                "get": {
                    "summary": "Technicians and their states",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["technicians"],
                                "properties": {"technicians": {"type": "array", "items": _ref("Technician")}},
                            },
                            "Technicians",
                        ),
                        **_errors(401, 403),
                    },
                }
            },
            "/api/csat": {
                "get": {
                    "summary": "Customer satisfaction: ratings and survey response rate (managers)",
                    "parameters": [
                        {
                            "name": "since",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "format": "date-time"},
                            "description": "Default: the start of today (Europe/Brussels)",
                        }
                    ],
                    "responses": {"200": _json(_ref("Csat"), "Satisfaction figures"), **_errors(400, 401, 403)},
                }
            },
            "/api/technicians/{technician_id}/state": {
                "post": {
                    "summary": "Set a technician available, away or offline (a technician: only themselves)",
                    "parameters": [_id_parameter("technician_id")],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["state"],
                                    "properties": {
                                        "state": {"type": "string", "enum": ["available", "away", "offline"]}
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(_ref("Technician"), "The technician"),
                        **_errors(400, 401, 403, 404, 409),
                    },
                }
            },
            "/api/callbacks/{callback_id}": {
                "get": {
                    "summary": "One callback with its attempts",
                    "parameters": [_id_parameter("callback_id")],
                    "responses": {"200": _json(_ref("Callback"), "The callback"), **_errors(401, 403, 404)},
                }
            },
            "/api/callbacks/{callback_id}/cancel": {
                "post": {
                    "summary": "Cancel a callback (managers)",
                    "parameters": [_id_parameter("callback_id")],
                    "responses": {
                        "200": _json(_ref("Callback"), "The cancelled callback"),
                        **_errors(401, 403, 404, 409),
                    },
                }
            },
            "/api/callbacks/{callback_id}/priority": {
                "post": {
                    "summary": "Change a callback's priority; it keeps its place in time (managers)",
                    "parameters": [_id_parameter("callback_id")],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["priority"],
                                    "properties": {"priority": PRIORITY},
                                }
                            }
                        },
                    },
                    "responses": {"200": _json(_ref("Callback"), "The callback"), **_errors(400, 401, 403, 404, 409)},
                }
            },
            "/api/tickets/{number}": {
                "get": {
                    "summary": "One ticket with its notes",
                    "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": _json(_ref("Ticket"), "The ticket"), **_errors(401, 403, 404)},
                }
            },
        },
    }
