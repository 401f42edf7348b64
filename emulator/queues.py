"""Call queues: <Enqueue> (the caller on hold), <Leave>, and <Dial><Queue> (taking the caller).

As Twilio documents them (https://www.twilio.com/docs/voice/twiml/enqueue,
https://www.twilio.com/docs/voice/twiml/leave, https://www.twilio.com/docs/api/twiml/queue):
a queue is created on demand by name; while waiting, the caller's ``waitUrl`` document
is played and requested again when it ends (only Say, Play, Pause, Gather, Redirect,
Leave and Hangup are allowed in it); ``<Leave>`` takes the caller out and the walk goes
on after the ``<Enqueue>``; the ``action`` URL is requested when the caller leaves the
queue — at once for leave, hangup or redirect, after both parties hung up when bridged —
with ``QueueResult`` and ``QueueTime``. ``<Dial><Queue>`` connects the first caller
waiting in the named queue, or waits until one joins or the Dial timeout passes.

Hold music takes real time on a real call; here the wait document is walked in
simulated time and requested again every ``emu.hold_loop_seconds`` of real time, so
the technicians' legs (real threads) and the caller's wait interleave as they would.
"""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin

from emulator.records import CallRecord, call_params, new_sid
from emulator.twiml import CallSession, method_of
from emulator.webhooks import Document

#: Verbs Twilio allows in a waitUrl document.
WAIT_VERBS = frozenset({"Say", "Play", "Pause", "Gather", "Redirect", "Leave", "Hangup"})


@dataclass
class QueueEntry:
    """One caller waiting in a queue, and the bridge a <Dial><Queue> makes with them."""

    rec: CallRecord
    queue_sid: str
    entered: float = field(default_factory=time.monotonic)
    dequeued: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    dequeuer: CallRecord | None = None

    @property
    def seconds(self) -> int:
        return int(time.monotonic() - self.entered)


class Queues:
    """The account's call queues, by name (created on demand, as <Enqueue> does)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[QueueEntry]] = {}
        self._sids: dict[str, str] = {}
        self._joined = threading.Condition(self._lock)

    def join(self, name: str, rec: CallRecord) -> QueueEntry:
        with self._lock:
            sid = self._sids.setdefault(name, new_sid("QU"))
            entry = QueueEntry(rec, sid)
            self._waiting.setdefault(name, []).append(entry)
            self._joined.notify_all()
            return entry

    def leave(self, name: str, entry: QueueEntry) -> bool:
        """Take ``entry`` out; False when a <Dial><Queue> took it first."""
        with self._lock:
            waiting = self._waiting.get(name, [])
            if entry in waiting and not entry.dequeued.is_set():
                waiting.remove(entry)
                return True
            return False

    def take_first(self, name: str, by: CallRecord, timeout: float, stop: threading.Event) -> QueueEntry | None:
        """The first caller waiting in ``name``, marked dequeued; waits up to ``timeout`` for one."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                waiting = self._waiting.get(name, [])
                if waiting:
                    entry = waiting.pop(0)
                    entry.dequeuer = by
                    entry.dequeued.set()
                    return entry
                left = deadline - time.monotonic()
                if left <= 0 or stop.is_set():
                    return None
                self._joined.wait(min(left, 0.05))

    def size(self, name: str) -> int:
        with self._lock:
            return len(self._waiting.get(name, []))


class LeaveQueue(Exception):
    """<Leave> in a wait document."""


def perform_enqueue(session: CallSession, verb: ET.Element, doc: Document) -> Document | None:
    """<Enqueue>: hold the caller until dequeued, <Leave>, a hang-up or a REST redirect."""
    emu = session.emu
    name = (verb.text or "").strip()
    if not name or len(name) > 64:
        session.invalid(doc, "<Enqueue> needs a queue name of at most 64 characters")
    entry = emu.queues.join(name, session.rec)
    session.rec.events.append(("enqueue", name))
    wait_url = urljoin(doc.url, verb.get("waitUrl", "")) if verb.get("waitUrl") else None
    result = hold(session, entry, name, wait_url, (verb.get("waitUrlMethod") or "POST").upper())
    if result == "bridged":
        # Both parties talk; the walk goes on once the one who took the caller hangs up.
        while not entry.done.wait(0.05) and not emu.stopping:
            pass
    session.rec.events.append(("queue-result", result))
    action = verb.get("action")
    params = {"QueueResult": result, "QueueSid": entry.queue_sid, "QueueTime": str(entry.seconds)}
    if result == "hangup":
        # The caller is gone: the action is still requested, its answer ignored.
        if action:
            emu.notify(session.rec, urljoin(doc.url, action), call_params(session.rec) | params, method_of(verb))
        session.person_hangs_up()
    if result == "redirected" or action is None:
        return None
    return session.fetch(urljoin(doc.url, action), method_of(verb), params)


def hold(session: CallSession, entry: QueueEntry, name: str, wait_url: str | None, method: str) -> str:
    """Play the wait document in a loop; the QueueResult that ends the wait."""
    emu = session.emu
    control = session.rec.control
    patience = getattr(session.person, "hold_patience", None)
    while True:
        if entry.dequeued.is_set():
            return "bridged"
        if control.hangup_status is not None or emu.stopping:
            emu.queues.leave(name, entry)
            session.checkpoint()  # ends the walk: hung up through REST, or the emulator stops
        if control.pending:
            if emu.queues.leave(name, entry):
                return "redirected"
            return "bridged"
        if patience is not None and entry.seconds >= patience and emu.queues.leave(name, entry):
            return "hangup"
        if wait_url is not None:
            try:
                play_wait_document(session, entry, name, wait_url, method)
            except LeaveQueue:
                if emu.queues.leave(name, entry):
                    return "leave"
                return "bridged"
        emu.sleep_until(entry.dequeued, emu.hold_loop_seconds, control)


def play_wait_document(session: CallSession, entry: QueueEntry, name: str, url: str, method: str) -> None:
    """One pass of the wait document (fetched afresh each time, with the queue's figures)."""
    params = {
        "QueueSid": entry.queue_sid,
        "QueuePosition": "1",
        "QueueTime": str(entry.seconds),
        "AvgQueueTime": str(entry.seconds),
        "CurrentQueueSize": str(session.emu.queues.size(name)),
        "MaxQueueSize": "1000",
    }
    doc = session.fetch(url, method, params)
    while doc is not None:
        following = None
        for verb in doc.root:
            if entry.dequeued.is_set() or session.rec.control.pending:
                return  # hold music stops when the caller is taken or the call is redirected
            if verb.tag not in WAIT_VERBS:
                session.invalid(doc, f"<{verb.tag}> is not allowed in a waitUrl document")
            if verb.tag == "Leave":
                raise LeaveQueue
            following = session.handlers[verb.tag](verb, doc)
            if following is not None:
                break
        doc = following


def perform_dial_queue(session: CallSession, noun: ET.Element, timeout: int) -> tuple[str, CallRecord | None, int]:
    """<Dial><Queue>: bridge the first waiting caller; (DialCallStatus, the caller's leg, talk seconds)."""
    emu = session.emu
    name = (noun.text or "").strip()
    session.rec.events.append(("dial-queue", name))
    entry = emu.queues.take_first(name, session.rec, timeout, emu.stop_event)
    if entry is None:
        return "no-answer", None, 0
    session.rec.events.append(("bridged", entry.rec.from_))
    entry.rec.events.append(("bridged", session.rec.to))
    phone = emu.phone_for(session.rec.to, session.rec)
    seconds = phone.talk_seconds
    started = time.monotonic()
    real_time = phone.real_time or session.person.interactive
    if real_time and emu.sleep(seconds, session.rec.control, entry.rec.control):
        seconds = int(time.monotonic() - started)
    entry.rec.duration += seconds
    session.elapse(seconds)
    entry.done.set()
    return "completed", entry.rec, seconds
