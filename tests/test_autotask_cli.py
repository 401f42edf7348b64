"""``flask autotask …`` against the stand-in, and the stand-in run on its own for demos."""

import subprocess
import sys

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import AutotaskPhone
from app.tickets import ticket_store
from tests.helpers import autotask_settings, free_port


def test_check_reports_the_zone_usage_and_every_label(app, standin, runner):
    app.config.update(autotask_settings(standin))
    result = runner.invoke(args=["autotask", "check"])
    assert result.exit_code == 0, result.output
    assert f"API root: {standin.url}/ATServicesRest/V1.0/" in result.output
    assert "priority P1 -> 'Critical' = 4" in result.output
    assert "status closed -> 'Complete' = 5" in result.output
    assert "note publish -> 'Internal Only' = 2" in result.output
    assert result.output.strip().endswith("Autotask connection and picklist labels are fine.")


def test_check_names_a_missing_label_and_the_ones_that_exist(app, standin, runner):
    app.config.update(autotask_settings(standin, AUTOTASK_QUEUE_LABEL="Level III Support"))
    result = runner.invoke(args=["autotask", "check"])
    assert result.exit_code == 1
    assert "queueID has no active value labelled 'Level III Support'" in result.output
    assert "'Level I Support'" in result.output


def test_check_says_when_credentials_are_missing(app, runner):
    result = runner.invoke(args=["autotask", "check"])
    assert result.exit_code == 1 and "AUTOTASK_USERNAME" in result.output


def test_refresh_phones_and_sync(app, standin, runner):
    app.config.update(autotask_settings(standin))
    company = standin.add_company("Atelier Vos", phone="03-888.77.66")
    standin.add_contact(company, "Els", "Vos", mobile="0470/12.34.56", phone="n/a")
    result = runner.invoke(args=["autotask", "refresh-phones"])
    assert result.exit_code == 0 and "2 phone numbers indexed" in result.output
    assert {row.e164 for row in db.session.scalars(select(AutotaskPhone))} == {"+3238887766", "+32470123456"}

    standin.fail_next(500, when="POST Tickets")
    ticket_store().create(title="Waiting", priority=3)
    result = runner.invoke(args=["autotask", "sync"])
    assert "0 tickets pushed, 1 still waiting" in result.output
    assert "Autotask failed on POST Tickets (500)" in result.output


def test_the_stand_in_runs_on_its_own_with_demo_data():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "autotask_standin", "serve", "--port", str(port), "--demo"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().startswith("Autotask stand-in running")
        lines = [process.stdout.readline().strip() for _ in range(5)]
        settings = dict(line.split("=", 1) for line in lines[1:])
        zone = requests.get(settings["AUTOTASK_ZONE_URL"], params={"user": settings["AUTOTASK_USERNAME"]}, timeout=5)
        api = zone.json()["url"] + "V1.0/"
        headers = {
            "UserName": settings["AUTOTASK_USERNAME"],
            "Secret": settings["AUTOTASK_SECRET"],
            "ApiIntegrationCode": settings["AUTOTASK_INTEGRATION_CODE"],
        }
        found = requests.post(
            api + "Companies/query",
            json={"filter": [{"op": "eq", "field": "companyName", "value": "Brouwerij De Klok"}]},
            headers=headers,
            timeout=5,
        ).json()
        assert found["items"][0]["phone"] == "03 230 45 67"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
