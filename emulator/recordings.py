"""<Record> results and their asynchronous recording/transcription callbacks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from emulator.records import CallRecord, call_params, new_sid, rfc2822, utcnow

if TYPE_CHECKING:
    from emulator.core import TwilioEmulator


@dataclass(frozen=True)
class Recording:
    """One recording made by <Record>; its URL is served by the emulator."""

    sid: str
    url: str
    duration: int

    def action_params(self) -> dict[str, str]:
        """What the <Record> action request says about the recording."""
        return {
            "RecordingUrl": self.url,
            "RecordingSid": self.sid,
            "RecordingDuration": str(self.duration),
        }


@dataclass(frozen=True)
class RecordingCallbacks:
    """The callbacks a <Record> verb subscribed to (URLs already resolved)."""

    status_url: str | None = None
    status_method: str = "POST"
    status_events: frozenset[str] = frozenset({"completed"})
    transcribe_url: str | None = None

    @classmethod
    def from_verb(cls, verb: ET.Element, base_url: str) -> RecordingCallbacks:
        """Read recordingStatusCallback* and transcribeCallback from a <Record>."""
        status = verb.get("recordingStatusCallback")
        transcribe = verb.get("transcribeCallback")
        events = verb.get("recordingStatusCallbackEvent", "completed")
        return cls(
            status_url=urljoin(base_url, status) if status else None,
            status_method=(verb.get("recordingStatusCallbackMethod") or "POST").upper(),
            status_events=frozenset(events.replace(",", " ").split()),
            # transcribe="true" without a callback stores the text in the REST
            # API only, so nothing is posted.
            transcribe_url=urljoin(base_url, transcribe) if transcribe else None,
        )


def send_recording_callbacks(
    emu: TwilioEmulator,
    rec: CallRecord,
    recording: Recording | None,
    callbacks: RecordingCallbacks,
    speech: str,
) -> None:
    """Post the recording status (and transcription) callbacks, in that order.

    `recording` None means the recording was empty: only an "absent" status is
    posted, and only if subscribed.
    """
    if callbacks.status_url:
        for event in ("in-progress", "completed", "absent"):
            if event in callbacks.status_events and (event == "absent") == (recording is None):
                params = recording_status_params(rec, recording, event)
                emu.notify(rec, callbacks.status_url, params, callbacks.status_method)
    if recording is not None and callbacks.transcribe_url:
        emu.notify(rec, callbacks.transcribe_url, transcription_params(rec, recording, speech))


def recording_status_params(rec: CallRecord, recording: Recording | None, status: str) -> dict[str, str]:
    """The parameters of a recordingStatusCallback request."""
    params = {
        "AccountSid": rec.account_sid,
        "CallSid": rec.sid,
        "RecordingStatus": status,
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
        "RecordingStartTime": rfc2822(utcnow()) or "",
        "ErrorCode": "0",
    }
    if recording is not None:
        params |= recording.action_params()
    return params


def transcription_params(rec: CallRecord, recording: Recording, speech: str) -> dict[str, str]:
    """The parameters of a transcribeCallback request."""
    transcription_sid = new_sid("TR")
    base = recording.url.rsplit("/Recordings/", 1)[0]
    return call_params(rec) | {
        "TranscriptionSid": transcription_sid,
        "TranscriptionText": speech,
        "TranscriptionStatus": "completed",
        "TranscriptionUrl": f"{base}/Transcriptions/{transcription_sid}",
        "TranscriptionType": "fast",
        "RecordingSid": recording.sid,
        "RecordingUrl": recording.url,
        "url": recording.url,
    }
