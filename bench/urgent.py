"""Urgent path vs callback path: SQL round trips and latency per webhook.

    .venv/bin/python bench/urgent.py [--calls 200]            # SQLite in a temporary directory
    DATABASE_URL=postgresql+psycopg://127.0.0.1/test .venv/bin/python bench/urgent.py

Drives the same caller through the IVR twice per round with the app's test client
(signed webhooks, real database, Redis for the dispatch trigger): once reporting a
P2 problem (callback path: confirm the number, queued) and once a P1 (urgent path:
put through with the technician's leg placed through the REST API of a local Twilio
emulator, the wait document, whisper, accept, the taker's Dial action). Prints, per webhook, the mean number of
SQL statements (round trips) and the p50/p99 latency, and the difference of the two
paths at the step where they part (impact) and over the whole call.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import event
from twilio.request_validator import RequestValidator

from app import create_app
from app.extensions import db
from app.models import Technician, UrgentTransfer
from app.opening_hours import parse_hours
from bench.harness import Database
from emulator import Phone, TwilioEmulator


def build_app(workdir: Path, database: Database, rest_url: str):
    return create_app(
        {
            "TWILIO_API_BASE_URL": rest_url,
            "TWILIO_CPS": 1000,
            "SQLALCHEMY_DATABASE_URI": database.url,
            "INSTANCE_PATH": str(workdir),
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
            "PUBLIC_BASE_URL": "http://127.0.0.1:9",  # loopback: development secrets (app/secret_settings.py)
            "DEFAULT_LANGUAGE": "en",
            "OPENING_HOURS": parse_hours("mon-sun 00:00-24:00"),
            "PUBLIC_HOLIDAYS": "",
        }
    )


class Provider:
    """Signs and posts webhooks; counts the SQL statements each one costs."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()
        self.validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
        self.statements = 0
        event.listen(db.engine, "before_cursor_execute", self._count)
        self.samples: dict[str, list[tuple[int, float]]] = defaultdict(list)

    def _count(self, *_args) -> None:
        self.statements += 1

    def post(self, path: str, label: str, sid: str, caller: str, **params) -> bytes:
        form = {"CallSid": sid, "From": caller, "To": "+3234603535", **params}
        signature = self.validator.compute_signature(self.app.config["PUBLIC_BASE_URL"] + path, form)
        before, started = self.statements, time.perf_counter()
        response = self.client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200 and b"went wrong" not in response.data, response.data
        self.samples[label].append((self.statements - before, elapsed))
        return response.data


#: The webhooks both paths share, up to "can you work?" (answered: no).
SHARED = ["incoming", "language", "main-menu", "recorded", "urgency"]


def report_problem(provider: Provider, sid: str, caller: str) -> None:
    provider.post("/voice/incoming", "incoming", sid, caller)
    provider.post("/voice/language?try=0", "language", sid, caller, Digits="3")
    provider.post("/voice/main-menu?try=0", "main-menu", sid, caller, Digits="2")
    provider.post("/voice/recorded", "recorded", sid, caller, RecordingUrl="https://rec.example/R", Digits="#")
    provider.post("/voice/urgency?try=0", "urgency", sid, caller, Digits="2")


def callback_path(provider: Provider, sid: str, caller: str) -> None:
    report_problem(provider, sid, caller)
    provider.post("/voice/impact?try=0", "impact (callback)", sid, caller, Digits="2")
    provider.post("/voice/confirm-number?try=0", "confirm-number", sid, caller, Digits="1")


def urgent_path(provider: Provider, sid: str, caller: str) -> None:
    report_problem(provider, sid, caller)
    provider.post("/voice/impact?try=0", "impact (urgent)", sid, caller, Digits="3")
    transfer = db.session.scalars(sa.select(UrgentTransfer).where(UrgentTransfer.call_sid == sid)).one()
    ring = transfer.rings[0].id
    leg = transfer.rings[0].call_sid
    provider.post(f"/voice/urgent/{transfer.id}/hold", "hold", sid, caller, QueueTime="2")
    provider.post(f"/voice/urgent/{transfer.id}/whisper/{ring}", "whisper", leg, "+3234603535", AnsweredBy="human")
    provider.post(f"/voice/urgent/{transfer.id}/accept/{ring}", "accept", leg, "+3234603535", Digits="1")
    provider.post(
        f"/voice/urgent/{transfer.id}/bridged/{ring}",
        "bridged",
        leg,
        "+3234603535",
        DialCallStatus="completed",
        DialCallDuration="60",
    )
    # The technician's wrap-up ends, ready for the next round.
    db.session.execute(sa.update(Technician).values(state="available", wrap_up_until=None))
    db.session.commit()


def summary(samples: list[tuple[int, float]]) -> tuple[float, float, float]:
    statements = statistics.mean(count for count, _ in samples)
    latencies = sorted(seconds * 1000 for _, seconds in samples)
    return statements, latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per path")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        database = Database.create(os.environ.get("DATABASE_URL", ""), Path(workdir))
        # The provider's REST side: the technician's leg rings a phone that never answers.
        emulator = TwilioEmulator("AC" + "0" * 32, "bench-token-" + "0" * 20).start()
        emulator.default_phone = Phone(answer="no-answer")
        app = build_app(Path(workdir), database, emulator.base_url)
        emulator.auth_token = app.config["TWILIO_AUTH_TOKEN"]
        with app.app_context():
            upgrade()
            db.session.add(Technician(name="Bench", phone="+32470000001", languages="en", state="available"))
            db.session.commit()
            provider = Provider(app)
            for number in range(arguments.calls):
                caller = f"+3247{number:07d}"
                callback_path(provider, "CA" + uuid.uuid4().hex, caller)
                urgent_path(provider, "CA" + uuid.uuid4().hex, f"+3248{number:07d}")
            print(
                f"database: {db.engine.dialect.name}; {arguments.calls} calls per path; machine: {os.cpu_count()} cores"
            )
            print(f"{'webhook':<22}{'SQL statements':>16}{'p50 ms':>10}{'p99 ms':>10}")
            for label, samples in provider.samples.items():
                statements, p50, p99 = summary(samples)
                print(f"{label:<22}{statements:>16.1f}{p50:>10.2f}{p99:>10.2f}")
            callback_statements = summary(provider.samples["impact (callback)"])[0]
            urgent_statements = summary(provider.samples["impact (urgent)"])[0]
            callback_total = sum(
                summary(provider.samples[label])[0] for label in [*SHARED, "impact (callback)", "confirm-number"]
            )
            urgent_hooks = [*SHARED, "impact (urgent)", "hold", "whisper", "accept", "bridged"]
            urgent_total = sum(summary(provider.samples[label])[0] for label in urgent_hooks)
            print(
                f"where the paths part (impact): urgent {urgent_statements:.1f} vs callback {callback_statements:.1f} "
                f"statements ({urgent_statements - callback_statements:+.1f})"
            )
            print(
                f"per webhook over the whole call: urgent {urgent_total / len(urgent_hooks):.1f} "
                f"vs callback {callback_total / 7:.1f} statements "
                f"({urgent_total / len(urgent_hooks) - callback_total / 7:+.1f})"
            )
            db.session.remove()
            db.engine.dispose()
        emulator.stop()
        database.drop()


if __name__ == "__main__":
    main()
