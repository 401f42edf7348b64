"""<Dial>: ringing the numbers, the whisper on the answering leg, and the bridge."""

from __future__ import annotations

import math
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urljoin

from emulator.handsets import Handset
from emulator.phones import CallerInput, Phone
from emulator.progress import ProgressCallbacks, parse_events
from emulator.records import CallRecord, call_params, utcnow
from emulator.twiml import CallSession, int_attr, method_of
from emulator.webhooks import Document

#: Twilio's longest call (the default Dial timeLimit): how long lab people may talk.
MAX_CALL_SECONDS = 14400
#: How often ringing legs are looked at.
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Target:
    """One <Number> to ring, with its attributes (URLs already resolved)."""

    number: str
    url: str | None = None
    method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_events: frozenset[str] = frozenset({"completed"})
    #: machineDetection on the <Number> (Enable / DetectMessageEnd) and where AnsweredBy goes.
    machine_detection: str | None = None
    amd_status_callback: str | None = None


@dataclass
class Leg:
    """A dialed child leg: its record, the callee's phone and its callbacks."""

    target: Target
    rec: CallRecord
    phone: Phone
    person: CallerInput
    progress: ProgressCallbacks

    def end(self, status: str) -> None:
        """Finish the leg and post its completed event."""
        self.rec.finish(status)
        if isinstance(self.person, Handset):
            self.person.ended(self.rec)
        self.progress.completed()


@dataclass(frozen=True)
class DialOutcome:
    """What the Dial action request reports."""

    status: str
    leg: Leg
    bridged: bool = False
    answered: bool = False


def perform_dial(session: CallSession, verb: ET.Element, doc: Document) -> Document | None:
    """Ring the <Dial> targets, connect the first to answer, then report.

    With an action URL its answer replaces the document; without one the walk
    continues with the next verb.
    """
    if session.whisper:
        session.invalid(doc, "<Dial> is not allowed in a <Number> url document")
    queue = verb.find("Queue")
    if queue is not None:
        return dial_queue(session, verb, queue, doc)
    targets = read_targets(session, verb, doc)
    caller_id = verb.get("callerId") or session.rec.from_
    legs = [open_leg(session, target, caller_id) for target in targets]
    timeout = int_attr(verb, "timeout", 30) or 30
    outcome = ring(session, legs, timeout, int_attr(verb, "timeLimit", None))
    session.rec.events.append(("dial-status", outcome.status))
    action = verb.get("action")
    if action is None:
        return None
    params = {
        "DialCallStatus": outcome.status,
        "DialCallSid": outcome.leg.rec.sid,
        "DialBridged": "true" if outcome.bridged else "false",
    }
    if outcome.answered:
        params["DialCallDuration"] = str(outcome.leg.rec.duration)
    url = urljoin(doc.url, action)
    if session.rec.control.pending:
        # A REST update arrived during the Dial: Twilio still requests the
        # action URL but ignores its answer; the update wins.
        session.emu.notify(session.rec, url, call_params(session.rec) | params, method_of(verb))
        return None
    return session.fetch(url, method_of(verb), params)


def dial_queue(session: CallSession, verb: ET.Element, queue: ET.Element, doc: Document) -> Document | None:
    """<Dial><Queue>: take the first caller waiting in the queue (emulator.queues)."""
    from emulator.queues import perform_dial_queue

    if len(verb) != 1:
        session.invalid(doc, "<Dial><Queue> cannot be mixed with other nouns")
    status, caller, seconds = perform_dial_queue(session, queue, int_attr(verb, "timeout", 30) or 30)
    session.rec.events.append(("dial-status", status))
    action = verb.get("action")
    if action is None:
        return None
    params = {"DialCallStatus": status, "DialBridged": "true" if caller else "false"}
    if caller is not None:
        params |= {"DialCallSid": caller.sid, "DialCallDuration": str(seconds)}
    return session.fetch(urljoin(doc.url, action), method_of(verb), params)


def read_targets(session: CallSession, verb: ET.Element, doc: Document) -> list[Target]:
    """The numbers a <Dial> rings: its <Number> nouns, or its bare text."""
    targets = []
    for noun in verb:
        if noun.tag != "Number":
            session.invalid(doc, f"<Dial><{noun.tag}> is not supported by the emulator")
        targets.append(number_target(noun, doc.url))
    if not targets and (verb.text or "").strip():
        targets.append(Target(number=(verb.text or "").strip()))
    if not targets:
        session.invalid(doc, "<Dial> has no number to dial")
    return targets


def number_target(noun: ET.Element, base_url: str) -> Target:
    """Read one <Number> noun."""
    url = noun.get("url")
    callback = noun.get("statusCallback")
    events = parse_events([noun.get("statusCallbackEvent", "")])
    return Target(
        number=(noun.text or "").strip(),
        url=urljoin(base_url, url) if url else None,
        method=method_of(noun),
        status_callback=urljoin(base_url, callback) if callback else None,
        status_callback_method=(noun.get("statusCallbackMethod") or "POST").upper(),
        # A Number's statusCallback always gets the completed event.
        status_events=events | {"completed"},
        machine_detection=noun.get("machineDetection"),
        amd_status_callback=urljoin(base_url, noun.get("amdStatusCallback", ""))
        if noun.get("amdStatusCallback")
        else None,
    )


def open_leg(session: CallSession, target: Target, caller_id: str) -> Leg:
    """Create the child leg for `target` and report it initiated."""
    emu = session.emu
    rec = emu.new_call("outbound-dial", from_=caller_id, to=target.number, parent_sid=session.rec.sid)
    phone = emu.phone_for(target.number, rec)
    progress = ProgressCallbacks(emu, rec, target.status_callback, target.status_callback_method, target.status_events)
    session.rec.events.append(("dial", target.number))
    progress.report("initiated", "initiated")
    person = emu.handset(target.number) if phone.interactive else CallerInput(phone.keys, phone.hangup_when_done)
    return Leg(target, rec, phone, person, progress)


def ring(session: CallSession, legs: list[Leg], timeout: int, time_limit: int | None) -> DialOutcome:
    """Ring every leg at once; the first phone to pick up gets the call."""
    if any(leg.person.interactive for leg in legs):
        return ring_people(session, legs, timeout, time_limit)
    for leg in legs:
        if leg.phone.answer in ("busy", "failed"):
            leg.end(leg.phone.answer)
        else:
            leg.rec.status = "ringing"
            leg.progress.report("ringing", "ringing")
    answering = [leg for leg in legs if leg.phone.answer == "answer" and leg.phone.ring_seconds < timeout]
    if not answering:
        return nobody_answers(session, legs, timeout)
    winner = min(answering, key=lambda leg: leg.phone.ring_seconds)
    if session.emu.sleep(winner.phone.ring_seconds, session.rec.control):
        return caller_gone(legs)
    session.elapse(math.ceil(winner.phone.ring_seconds))
    # The first pick-up takes the call: Twilio hangs up the other legs at once,
    # even if the winner's whisper later declines.
    for leg in legs:
        if leg is not winner and leg.rec.is_live:
            leg.end("canceled")
    return connect(session, winner, time_limit)


def ring_people(session: CallSession, legs: list[Leg], timeout: int, time_limit: int | None) -> DialOutcome:
    """Ring legs of which some have a person deciding in real time; the first to pick up wins.

    Each interactive leg rings in a thread of its own (``Handset.ring`` waits
    for its person); scripted legs pick up after their ``ring_seconds``.
    """
    results: dict[int, str] = {}
    cancel = threading.Event()
    threads = []
    for index, leg in enumerate(legs):
        if isinstance(leg.person, Handset):
            handset = leg.person

            def wait(index: int = index, leg: Leg = leg, handset: Handset = handset) -> None:
                results[index] = handset.ring(leg.rec, timeout, lambda: cancel.is_set() or session.emu.stopping)

            leg.rec.status = "ringing"
            leg.progress.report("ringing", "ringing")
            threads.append(threading.Thread(target=wait, name=f"emulator-ring-{leg.rec.sid}", daemon=True))
        elif leg.phone.answer in ("busy", "failed"):
            leg.end(leg.phone.answer)
        else:
            leg.rec.status = "ringing"
            leg.progress.report("ringing", "ringing")
    for thread in threads:
        thread.start()
    started = time.monotonic()
    winner = None
    try:
        while winner is None:
            elapsed = time.monotonic() - started
            for index, leg in enumerate(legs):
                if not leg.rec.is_live:
                    continue
                if isinstance(leg.person, Handset):
                    result = results.get(index)
                    if result == "answer":
                        winner = leg
                        break
                    if result is not None:
                        leg.end(result)
                elif leg.phone.answer == "answer" and elapsed >= leg.phone.ring_seconds:
                    winner = leg
                    break
            if winner is not None:
                break
            if session.rec.control.pending or session.emu.stopping:
                return caller_gone(legs)
            if elapsed >= timeout or not any(leg.rec.is_live for leg in legs):
                return nobody_answers(session, legs, timeout)
            time.sleep(POLL_SECONDS)
    finally:
        cancel.set()
        for thread in threads:
            thread.join(timeout=2)
    session.elapse(math.ceil(time.monotonic() - started))
    for leg in legs:
        if leg is not winner and leg.rec.is_live:
            leg.end("canceled")
    return connect(session, winner, time_limit)


def nobody_answers(session: CallSession, legs: list[Leg], timeout: int) -> DialOutcome:
    """No leg picked up before the timeout."""
    ringing = [leg for leg in legs if leg.rec.is_live]
    for leg in ringing:
        leg.end("no-answer")
    session.elapse(timeout if ringing else 1)
    statuses = [leg.rec.status for leg in legs]
    status = next((s for s in ("no-answer", "busy", "failed") if s in statuses), "failed")
    return DialOutcome(status, legs[-1])


def caller_gone(legs: list[Leg]) -> DialOutcome:
    """The parent call was hung up or redirected while the legs were ringing."""
    for leg in legs:
        if leg.rec.is_live:
            leg.end("canceled")
    return DialOutcome("canceled", legs[-1])


def connect(session: CallSession, leg: Leg, time_limit: int | None) -> DialOutcome:
    """Answer `leg`, run its whisper, and bridge it unless the whisper hangs up."""
    leg.rec.status = "in-progress"
    leg.rec.start_time = utcnow()
    leg.progress.report("answered", "in-progress")
    detect_machine(session, leg)
    bridged = True
    if leg.target.url:
        whisper = CallSession(session.emu, leg.rec, leg.person, whisper=True)
        # A whisper that runs out of verbs connects the parties; one that hangs
        # up (or fails) ends the leg unbridged. Twilio still reports
        # DialCallStatus=completed then, with DialBridged=false.
        bridged = whisper.run(leg.target.url, leg.target.method).reason == "end"
    whisper_seconds = leg.rec.duration
    if bridged:
        session.rec.events.append(("bridged", leg.rec.to))
        talk(session, leg, time_limit)
    session.elapse(whisper_seconds)
    leg.end("completed")
    return DialOutcome("completed", leg, bridged=bridged, answered=True)


def detect_machine(session: CallSession, leg: Leg) -> None:
    """<Number machineDetection>: AnsweredBy goes to amdStatusCallback once decided.

    https://www.twilio.com/docs/voice/twiml/number#attributes-machine-detection — with an
    amdStatusCallback the detection runs beside the call (asynchronous AMD); the callback
    comes before the parties talk here, as it does within a few seconds on a real call.
    """
    if not leg.target.machine_detection:
        return
    machine = leg.target.machine_detection == "DetectMessageEnd"
    leg.rec.answered_by = ("machine_end_beep" if machine else "machine_start") if leg.phone.machine else "human"
    leg.rec.events.append(("answered-by", leg.rec.answered_by))
    if leg.target.amd_status_callback:
        params = call_params(leg.rec) | {"AnsweredBy": leg.rec.answered_by, "MachineDetectionDuration": "2100"}
        session.emu.notify(leg.rec, leg.target.amd_status_callback, params)


def talk(session: CallSession, leg: Leg, time_limit: int | None) -> None:
    """The bridged conversation: `talk_seconds`, really waited for in real time.

    It ends early if either leg is hung up or redirected through the REST API;
    a redirected child leg then walks its new document alone.
    """
    # A person in the phone lab talks until someone hangs up.
    seconds = MAX_CALL_SECONDS if leg.person.interactive else leg.phone.talk_seconds
    if time_limit is not None:
        seconds = min(seconds, time_limit)
    if leg.phone.real_time or leg.person.interactive or session.person.interactive:
        party = session.rec.from_ if session.rec.direction == "inbound" else session.rec.to
        leg.person.connected(party)
        session.person.connected(leg.rec.to)
        started = time.monotonic()
        if session.emu.sleep(seconds, session.rec.control, leg.rec.control):
            seconds = math.ceil(time.monotonic() - started)
        leg.person.connected(None)
        session.person.connected(None)
    leg.rec.duration += seconds
    session.elapse(seconds)
    target = leg.rec.control.take_redirect()
    if target is not None:
        walker = CallSession(session.emu, leg.rec, leg.person)
        walker.current_url = leg.target.url or ""
        walker.run(target.url, target.method, target.twiml)
