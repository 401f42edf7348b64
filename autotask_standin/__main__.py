"""Command line: ``python -m autotask_standin serve [--port 5060] [--demo]``.

Runs the stand-in until Ctrl-C and prints the settings that point the desk at it.
``--demo`` adds the demo companies and contacts of ``flask seed-demo``, with their
phone numbers written the free-text way people type them into Autotask.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Sequence

from autotask_standin.core import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME, AutotaskStandIn

DEMO_COMPANIES = [
    ("Brouwerij De Klok", "03 230 45 67", [("An", "Peeters", "an@deklok.example", "0470/12.34.56")]),
    ("Transports Lemaire", "+32 2 555 12 12", [("Luc", "Lemaire", "luc@lemaire.example", "+32 (0)475 98 76 54")]),
    ("Atelier Vos", "03-888.77.66", [("Els", "Vos", "els@vos.example", "")]),
    ("Harbour Logistics", "+44 20 7946 0000", [("Sam", "Baker", "sam@harbour.example", "+44 7911 123456")]),
]


def build_parser() -> argparse.ArgumentParser:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m autotask_standin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the stand-in until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(env.get("AUTOTASK_STANDIN_PORT", "5060")))
    serve.add_argument("--username", default=env.get("AUTOTASK_USERNAME") or DEFAULT_USERNAME)
    serve.add_argument("--secret", default=env.get("AUTOTASK_SECRET") or DEFAULT_SECRET)
    serve.add_argument("--integration-code", default=env.get("AUTOTASK_INTEGRATION_CODE") or DEFAULT_INTEGRATION_CODE)
    serve.add_argument("--hourly-threshold", type=int, default=10_000)
    serve.add_argument("--demo", action="store_true", help="add the demo companies and contacts")
    return parser


def seed_demo(standin: AutotaskStandIn) -> None:
    for name, phone, contacts in DEMO_COMPANIES:
        company = standin.add_company(name, phone=phone)
        for first, last, email, mobile in contacts:
            standin.add_contact(company, first, last, email=email, mobile=mobile)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    standin = AutotaskStandIn(
        args.username,
        args.secret,
        args.integration_code,
        hourly_threshold=args.hourly_threshold,
        host=args.host,
        port=args.port,
    ).start()
    if args.demo:
        seed_demo(standin)
    print("Autotask stand-in running. Point the desk at it with:")
    print("  TICKET_STORE=autotask")
    print(f"  AUTOTASK_ZONE_URL={standin.zone_url}")
    print(f"  AUTOTASK_USERNAME={standin.username}")
    print(f"  AUTOTASK_SECRET={standin.secret}")
    print(f"  AUTOTASK_INTEGRATION_CODE={standin.integration_code}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
