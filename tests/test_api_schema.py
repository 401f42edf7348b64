"""schemathesis against /api/openapi.json: generated requests, valid and invalid, never get a
5xx, and every answer conforms to the document (status codes, content type, body schema,
auth enforced).

The operations are driven with hypothesis directly (schemathesis's own pytest plugin does
not run under this pytest version).
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.parameters import ParameterLocation

from app.tickets import ticket_store
from app.web.accounts import new_token
from callbacks.queue import queue_callback
from tests.helpers import add_contact, add_technician, add_user

#: Generated cases per API operation and mode; enough to cover the schema's corners in seconds.
EXAMPLES_PER_OPERATION = 30


@pytest.fixture
def api_schema(app):
    """The app's own OpenAPI document, called in-process over WSGI, with some records to find."""
    add_technician("Jan Janssens", "+32470000001")
    add_technician("Marie Dubois", "+32470000002", state="on_call")
    contact = add_contact("An Peeters", "+32470123456")
    ticket = ticket_store().create(title="Mail server down", contact_id=contact.id, company_id=contact.company_id)
    queue_callback(ticket, "+32470123456", 3, "nl")
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def headers_are_negative(case) -> bool:
    components = case.meta.components if case.meta is not None else {}
    header = components.get(ParameterLocation.HEADER)
    return header is not None and header.mode == schemathesis.GenerationMode.NEGATIVE


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_the_api_honours_its_openapi_document(api_schema, mode):
    headers = {"Authorization": f"Bearer {new_token(add_user(f'robot-{mode}'))}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {operation.label for operation in operations} >= {
        "GET /api/queue",
        "POST /api/callbacks/{callback_id}/priority",
    }

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def conforms(case) -> None:
            # A case whose headers are the invalid part (the token left out or mangled) is sent as generated:
            # putting a valid token back would turn it into a valid request the API rightly accepts.
            case.call_and_validate(headers=None if headers_are_negative(case) else headers)

        conforms()
