"""Emulated phones: how the person on each number behaves, and how keys are typed."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from emulator.records import CallRecord

Answer = Literal["answer", "no-answer", "busy", "failed"]
ANSWERS: tuple[str, ...] = ("answer", "no-answer", "busy", "failed")

# Speech rate used to turn spoken words into simulated seconds.
WORDS_PER_SECOND = 2.5


@dataclass
class Phone:
    """How the person on one number behaves when called or calling.

    `keys` are the inputs given, in order, to each <Gather>/<Record> on a call;
    every call gets a fresh copy. When they run out and `hangup_when_done` is
    set, the person hangs up at the next input request instead of staying
    silent. `talk_seconds` is the reported length of a bridged conversation; it
    is only really waited for when `real_time` is set. `ring_seconds` is a real
    wait before answering (keep 0 in tests).
    """

    answer: Answer = "answer"
    keys: list[str] = field(default_factory=lambda: ["1"])
    talk_seconds: int = 30
    ring_seconds: float = 0
    real_time: bool = False
    hangup_when_done: bool = True
    # A person in the phone lab answers, listens and types (emulator.handsets).
    interactive: bool = False
    # An answering machine: picks up, plays its greeting, never presses a key; answering-machine
    # detection reports it as AnsweredBy=machine_start.
    machine: bool = False

    @classmethod
    def voicemail(cls, ring_seconds: float = 1.0) -> Phone:
        """A phone whose voicemail picks up (after ``ring_seconds`` of real time) and never presses a key."""
        return cls(answer="answer", keys=[], ring_seconds=ring_seconds, hangup_when_done=False, machine=True)

    @classmethod
    def person(cls, keys: Iterable[str], ring_seconds: float = 3.0, talk_seconds: int = 30) -> Phone:
        """A person who picks up after ``ring_seconds`` of real time (3 to 8 s on a real desk) and presses ``keys``."""
        return cls(answer="answer", keys=list(keys), ring_seconds=ring_seconds, talk_seconds=talk_seconds)

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise ValueError(f"answer must be one of {ANSWERS}, not {self.answer!r}")
        self.keys = [str(item) for item in self.keys]


PhoneFactory = Callable[["CallRecord"], Phone]


@dataclass(frozen=True)
class Listening:
    """What a call waits for from the person: keys for a <Gather>, speech for a <Record>."""

    kind: Literal["keys", "record"]
    finish_keys: str
    num_digits: int | None
    timeout: float


class CallerInput:
    """The inputs one person gives on one call, consumed one per input request.

    A scripted person answers at once and takes no real time; an interactive
    one (``emulator.handsets.Handset``) overrides ``listen``, ``hear``,
    ``connected`` and ``next`` to follow a person at a browser.
    """

    interactive = False

    def __init__(self, keys: Iterable[str], hangup_when_done: bool, hold_patience: float | None = None) -> None:
        self._items: deque[str] = deque(str(item) for item in keys)
        self.hangup_when_done = hangup_when_done
        #: Seconds (real time) the person stays on hold in a queue before hanging up; None: forever.
        self.hold_patience = hold_patience

    def listen(self, listening: Listening) -> None:
        """A <Gather> or <Record> starts listening (before its prompts, so keys can cut them short)."""

    def hear(self, seconds: float, language: str | None = None) -> None:
        """A prompt of ``seconds`` (spoken in ``language``, when said) is being played to the person."""

    def connected(self, other: str | None) -> None:
        """The call is bridged to ``other``; None when the bridge ends."""

    def next(self) -> str | None:
        """Return the next input: key presses and/or speech, "" for silence.

        None means the person hangs up instead (inputs exhausted and
        `hangup_when_done`).
        """
        if self._items:
            return self._items.popleft()
        return None if self.hangup_when_done else ""


@dataclass(frozen=True)
class KeyEntry:
    """The outcome of typing one input item into a <Gather>."""

    digits: str
    finished_on_key: str
    timed_out: bool


def type_keys(item: str, finish_on_key: str, num_digits: int | None) -> KeyEntry:
    """Type `item` key by key the way <Gather> collects DTMF.

    Collection stops at `num_digits` keys or at a finishOnKey key (which is not
    part of the digits); otherwise the caller stops typing and the timeout ends
    it. Keys typed after the gather finished are lost, as on a real call.
    """
    typed = ""
    for key in item:
        if finish_on_key and key in finish_on_key:
            return KeyEntry(typed, key, timed_out=False)
        typed += key
        if num_digits is not None and len(typed) >= num_digits:
            return KeyEntry(typed, "", timed_out=False)
    return KeyEntry(typed, "", timed_out=True)


def speak_then_press(item: str, finish_keys: str) -> tuple[str, str]:
    """Split a <Record> input into (simulated speech, key that ended it).

    "printer broken#" is speech "printer broken" ended by "#"; an item without
    a finish key ends by silence (key "").
    """
    for index, key in enumerate(item):
        if key in finish_keys:
            return item[:index].strip(), key
    return item.strip(), ""


def spoken_seconds(text: str) -> int:
    """Simulated time it takes to say `text` (at least one second)."""
    return max(1, math.ceil(len(text.split()) / WORDS_PER_SECOND))
