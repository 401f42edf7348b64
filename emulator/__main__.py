"""Command line: `python -m emulator serve ...` and `python -m emulator call ...`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence

import requests

from emulator.core import DEFAULT_DESK_NUMBER, TwilioEmulator
from emulator.phones import Phone

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "emulator-auth-token"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"


def build_parser() -> argparse.ArgumentParser:
    """Arguments, with defaults taken from the app's environment variables."""
    env = os.environ
    base = env.get("PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL).rstrip("/")
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the emulator until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(env.get("EMULATOR_PORT", "5050")))
    serve.add_argument("--voice-url", default=f"{base}/voice/incoming")
    serve.add_argument("--status-url", default=f"{base}/voice/status")
    serve.add_argument("--fallback-url", default=f"{base}/voice/fallback")
    serve.add_argument("--account-sid", default=env.get("TWILIO_ACCOUNT_SID", DEFAULT_ACCOUNT_SID))
    serve.add_argument("--auth-token", default=env.get("TWILIO_AUTH_TOKEN", DEFAULT_AUTH_TOKEN))
    serve.add_argument("--desk-number", default=env.get("DESK_NUMBER", DEFAULT_DESK_NUMBER))
    serve.add_argument("--ring-seconds", type=float, default=0.0, help="real wait before phones answer")
    serve.add_argument("--talk-seconds", type=int, default=30, help="length of bridged calls")
    serve.add_argument("--real-time", action="store_true", help="really wait while calls are bridged")

    call = commands.add_parser("call", help="simulate an inbound call on a running emulator")
    call.add_argument("--url", default=f"http://127.0.0.1:{env.get('EMULATOR_PORT', '5050')}")
    call.add_argument("--from", dest="from_", required=True, help="caller number")
    call.add_argument("--to", default=None, help="number called (default: the desk)")
    call.add_argument("--hangup-when-done", action="store_true")
    call.add_argument("keys", nargs="*", help='inputs, one per prompt, e.g. 2 "#" 0470123456#')
    return parser


def serve(args: argparse.Namespace) -> int:
    """Run the emulator in the foreground, logging one line per call."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    emu = TwilioEmulator(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        desk_number=args.desk_number,
        voice_url=args.voice_url,
        status_url=args.status_url,
        fallback_url=args.fallback_url,
        host=args.host,
        port=args.port,
    )
    emu.default_phone = Phone(ring_seconds=args.ring_seconds, talk_seconds=args.talk_seconds, real_time=args.real_time)
    emu.start()
    print(
        f"Twilio emulator on {emu.base_url} for {emu.desk_number} -> {emu.voice_url}",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    return 0


def call(args: argparse.Namespace) -> int:
    """Ask a running emulator to place an inbound call, and print what was heard."""
    payload = {
        "from": args.from_,
        "to": args.to,
        "keys": args.keys,
        "hangup_when_done": args.hangup_when_done,
    }
    response = requests.post(f"{args.url.rstrip('/')}/_emulator/calls", json=payload, timeout=600)
    response.raise_for_status()
    result = response.json()
    for line in result["heard"]:
        print(f"  heard: {line}")
    for error in result["errors"]:
        print(f"  error: {error}")
    print(json.dumps({"sid": result["sid"], "status": result["status"]}))
    return 0 if not result["errors"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    return serve(args) if args.command == "serve" else call(args)


if __name__ == "__main__":
    sys.exit(main())
