"""The Autotask stand-in itself: Autotask's paths, shapes, rules, threshold and planned faults."""

import json
import re
import time

import pytest
import requests

from autotask_standin import AutotaskStandIn


def headers_for(standin: AutotaskStandIn) -> dict[str, str]:
    return {"ApiIntegrationCode": standin.integration_code, "UserName": standin.username, "Secret": standin.secret}


@pytest.fixture
def api(standin):
    """A requests session speaking to the stand-in with the three headers."""
    session = requests.Session()
    session.headers.update(headers_for(standin))
    base = f"{standin.url}/ATServicesRest/V1.0/"

    def call(method: str, path: str, body=None, **params):
        return session.request(method, base + path, json=body, params=params or None, timeout=10)

    return call


def new_ticket(api, **fields):
    body = {"title": "Printer", "companyID": 0, "status": 1, "priority": 2, "dueDateTime": "2026-12-01T10:00:00Z"}
    body.update(fields)
    return api("POST", "Tickets", body)


def test_zone_information_names_the_api_host(standin):
    answer = requests.get(standin.zone_url, params={"user": standin.username}, timeout=5)
    assert answer.status_code == 200
    assert answer.json() == {
        "zoneName": "Stand-in",
        "url": f"{standin.url}/ATServicesRest/",
        "webUrl": f"{standin.url}/",
        "ci": 0,
    }
    unknown = requests.get(standin.zone_url, params={"user": "someone@else.example"}, timeout=5)
    assert unknown.status_code == 500 and unknown.json()["errors"]


def test_every_call_needs_the_three_headers(standin, api):
    assert api("GET", "Tickets/1").status_code == 200
    bare = requests.get(f"{standin.url}/ATServicesRest/V1.0/Tickets/1", timeout=5)
    assert bare.status_code == 401 and "Authentication failed" in bare.json()["errors"][0]
    wrong = requests.get(
        f"{standin.url}/ATServicesRest/V1.0/Tickets/1", headers={**headers_for(standin), "Secret": "x"}, timeout=5
    )
    assert wrong.status_code == 401


def test_picklists_come_with_the_field_metadata(api):
    fields = {field["name"]: field for field in api("GET", "Tickets/entityInformation/fields").json()["fields"]}
    status = fields["status"]
    assert status["isPickList"] and status["isRequired"]
    entry = status["picklistValues"][0]
    assert set(entry) == {"value", "label", "isDefaultValue", "sortOrder", "parentValue", "isActive", "isSystem"}
    assert {e["label"]: e["value"] for e in fields["priority"]["picklistValues"]}["Critical"] == "4"
    assert fields["ticketNumber"]["isReadOnly"] and not fields["title"]["isPickList"]


def test_a_created_ticket_gets_an_id_and_a_daily_number(standin, api):
    first, second = new_ticket(api).json(), new_ticket(api, title="Scanner").json()
    assert set(first) == {"itemId"}
    item = api("GET", f"Tickets/{first['itemId']}").json()["item"]
    assert re.fullmatch(r"T\d{8}\.0001", item["ticketNumber"]) and item["title"] == "Printer"
    assert api("GET", f"Tickets/{second['itemId']}").json()["item"]["ticketNumber"].endswith(".0002")
    assert item["createDate"].endswith("Z")
    assert api("GET", "Tickets/1").json() == {"item": None}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"title": None}, "Value does not exist for the required field title."),
        ({"status": 17}, "The value '17' is not a valid, active value of the status picklist."),
        ({"priority": 99}, "The value '99' is not a valid, active value of the priority picklist."),
        ({"companyID": 12345}, "Company 12345 does not exist."),
        ({"contactID": 777}, "Contact 777 does not belong to company 0."),
        ({"title": "x" * 256}, "The title is longer than 255 characters."),
    ],
)
def test_a_refused_create_says_why_in_an_errors_list(api, fields, error):
    answer = new_ticket(api, **fields)
    assert answer.status_code == 400 and error in answer.json()["errors"]


def test_queries_filter_like_autotask(api):
    for title in ("Printer", "printer toner", "Mail"):
        new_ticket(api, title=title)

    def titles(conditions, **extra):
        answer = api("POST", "Tickets/query", {"filter": conditions, **extra})
        assert answer.status_code == 200, answer.text
        return sorted(item["title"] for item in answer.json()["items"])

    assert titles([{"op": "eq", "field": "title", "value": "PRINTER"}]) == ["Printer"]
    assert titles([{"op": "contains", "field": "Title", "value": "print"}]) == ["Printer", "printer toner"]
    assert titles([{"op": "in", "field": "title", "value": ["Mail", "Fax"]}]) == ["Mail"]
    group = {
        "op": "or",
        "items": [
            {"op": "beginsWith", "field": "title", "value": "m"},
            {"op": "eq", "field": "title", "value": "Printer"},
        ],
    }
    assert titles([group]) == ["Mail", "Printer"]
    assert titles([{"op": "gt", "field": "id", "value": "0"}], maxRecords=1) == ["Printer"]
    search = json.dumps({"filter": [{"op": "eq", "field": "title", "value": "Mail"}]})
    assert [i["title"] for i in api("GET", "Tickets/query", search=search).json()["items"]] == ["Mail"]
    unknown = api("POST", "Tickets/query", {"filter": [{"op": "eq", "field": "colour", "value": 1}]})
    assert unknown.status_code == 400 and "Unable to find colour in the Tickets entity." in unknown.json()["errors"]
    assert api("POST", "Tickets/query", {"filter": [{"op": "like", "field": "title", "value": 1}]}).status_code == 400
    assert api("POST", "Tickets/query", {"filter": []}).status_code == 400


def test_long_results_come_in_pages_with_a_next_page_url(standin, api):
    company = standin.add_company("Atelier Vos")
    for number in range(3):
        standin.add_contact(company, "Els", f"Vos {number}")
    page = api(
        "POST", "Contacts/query", {"filter": [{"op": "eq", "field": "companyID", "value": company}], "maxRecords": 2}
    ).json()
    assert page["pageDetails"]["count"] == 2 and page["pageDetails"]["prevPageUrl"] is None
    next_page = requests.get(page["pageDetails"]["nextPageUrl"], headers=headers_for(standin), timeout=5).json()
    assert [c["lastName"] for c in next_page["items"]] == ["Vos 2"] and next_page["pageDetails"]["nextPageUrl"] is None


def test_updates_and_notes(standin, api):
    ticket_id = new_ticket(api).json()["itemId"]
    assert api("PATCH", "Tickets", {"id": ticket_id, "status": 5}).json() == {"itemId": ticket_id}
    assert standin.tickets[ticket_id]["completedDate"] is not None
    assert api("PATCH", "Tickets", {"id": ticket_id, "status": 3}).status_code == 400
    note = {"title": "Call", "description": "Called back", "noteType": 2, "publish": 2}
    note_id = api("POST", f"Tickets/{ticket_id}/Notes", note).json()["itemId"]
    assert api("GET", f"Tickets/{ticket_id}/Notes").json()["items"][0]["id"] == note_id
    assert api("POST", f"Tickets/{ticket_id}/Notes", {**note, "ticketID": 1}).status_code == 400
    assert api("POST", "Tickets/1/Notes", note).status_code == 404
    assert (
        "Value does not exist for the required field noteType."
        in api("POST", f"Tickets/{ticket_id}/Notes", {"title": "t", "description": "d", "publish": 1}).json()["errors"]
    )
    found = api("POST", "TicketNotes/query", {"filter": [{"op": "eq", "field": "title", "value": "call"}]}).json()
    assert [n["id"] for n in found["items"]] == [note_id]


def test_the_hourly_threshold_slows_down_then_refuses():
    standin = AutotaskStandIn(hourly_threshold=8, latency_seconds=(0.2, 0.4)).start()
    try:
        session = headers_for(standin)
        url = f"{standin.url}/atservicesrest/v1.0/Tickets/1"
        durations = []
        for _ in range(8):
            started = time.monotonic()
            assert requests.get(url, headers=session, timeout=5).status_code == 200
            durations.append(time.monotonic() - started)
        assert max(durations[:3]) < 0.15  # under half the threshold: no added latency
        assert min(durations[3:5]) >= 0.2 and max(durations[3:5]) < 0.35  # from 50 %
        assert min(durations[5:]) >= 0.4  # from 75 %
        refused = requests.get(url, headers=session, timeout=5)
        assert refused.status_code == 429 and "threshold of 8 requests per hour" in refused.json()["errors"][0]
        usage = requests.get(f"{standin.url}/atservicesrest/v1.0/ThresholdInformation", headers=session, timeout=5)
        assert usage.status_code == 429  # counted like any call
    finally:
        standin.stop()


def test_the_threshold_is_a_rolling_hour(standin, api):
    now = [0.0]
    standin.clock = lambda: now[0]
    standin.hourly_threshold = 2
    assert api("GET", "Tickets/1").status_code == 200
    now[0] = 1800
    assert api("GET", "Tickets/1").status_code == 200
    assert api("GET", "Tickets/1").status_code == 429
    now[0] = 3601  # the first request is more than an hour old
    usage = api("GET", "ThresholdInformation").json()
    assert usage == {"externalRequestThreshold": 2, "requestThresholdTimeframe": 60, "currentTimeframeRequestCount": 2}


def test_planned_faults(standin, api):
    standin.fail_next(500, when="POST Tickets")
    assert api("GET", "Tickets/1").status_code == 200  # not a match
    assert new_ticket(api).status_code == 500 and standin.tickets == {}
    standin.lose_next_response(1.0)
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{standin.url}/ATServicesRest/V1.0/Tickets",
            json={"title": "Lost", "companyID": 0, "status": 1, "priority": 2, "dueDateTime": "2026-12-01T10:00:00Z"},
            headers=headers_for(standin),
            timeout=0.3,
        )
    assert [t["title"] for t in standin.tickets.values()] == ["Lost"]  # created all the same
