import json

from sqlalchemy import select

from app.extensions import db
from app.models import Callback, Technician
from tests.helpers import add_technician


def queue_json(runner) -> dict:
    result = runner.invoke(args=["queue", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_seed_demo_adds_companies_contacts_and_three_available_technicians(runner):
    runner.app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"  # seed-demo is for loopback desks only
    assert "seeded 4 companies and 3 technicians" in runner.invoke(args=["seed-demo"]).output
    assert "already present" in runner.invoke(args=["seed-demo"]).output
    technicians = queue_json(runner)["technicians"]
    assert len(technicians) == 3 and {t["state"] for t in technicians} == {"available"}


def test_technicians_add_normalises_the_number_and_starts_offline(runner):
    result = runner.invoke(
        args=["technicians", "add", "--name", "Els", "--phone", "0470 99 88 77", "--languages", "nl,fr"]
    )
    assert result.exit_code == 0, result.output
    technician = queue_json(runner)["technicians"][0]
    assert technician == {
        "id": technician["id"],
        "name": "Els",
        "phone": "+32470998877",
        "state": "offline",
        "languages": ["nl", "fr"],
    }


def test_technicians_add_refuses_a_bad_number(runner):
    result = runner.invoke(args=["technicians", "add", "--name", "X", "--phone", "12"])
    assert result.exit_code != 0 and "not a valid phone number" in result.output


def test_set_state_moves_a_technician_and_refuses_while_on_a_call(runner, redis):
    add_technician("Jan", "+32470000001", state="offline")
    assert "Jan is now available" in runner.invoke(args=["technicians", "set-state", "0470000001", "available"]).output
    assert redis.llen("rq:queue:dispatch") == 1  # going available triggers dispatch
    db.session.scalars(select(Technician)).one().state = "on_call"
    db.session.commit()
    result = runner.invoke(args=["technicians", "set-state", "+32470000001", "away"])
    assert result.exit_code != 0 and "cannot go away now" in result.output
    assert runner.invoke(args=["technicians", "set-state", "+32470000009", "away"]).exit_code != 0


def test_simulate_call_prints_what_the_caller_hears_and_queues_the_callback(desk, monkeypatch):
    monkeypatch.setenv("EMULATOR_URL", desk.emulator.base_url)
    runner = desk.app.test_cli_runner()
    result = runner.invoke(args=["simulate-call", "--from", "+32470123456", "--keys", "3,2,#,2,3,1"])
    assert result.exit_code == 0, result.output
    assert "To report a new problem, press 2." in result.output
    assert "We are connecting you to a technician now." in result.output
    assert "No technician is free right now; you are first in the callback queue." in result.output
    assert "ended: completed" in result.output
    snapshot = queue_json(runner)
    callback = snapshot["callbacks"][0]
    assert (callback["status"], callback["priority"], callback["phone"], callback["position"]) == (
        "waiting",
        1,
        "+32470123456",
        1,
    )
    assert callback["ticket_number"].startswith("T") and callback["attempts"] == 0 and callback["language"] == "en"
    assert db.session.scalars(select(Callback)).one().priority == 1


def test_simulate_call_says_clearly_when_no_emulator_runs(runner):
    result = runner.invoke(args=["simulate-call", "--from", "+32470123456", "--emulator", "http://127.0.0.1:1"])
    assert result.exit_code != 0 and "no emulator answered" in result.output
