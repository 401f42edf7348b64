"""A faithful local Twilio Programmable Voice + Messaging emulator.

It calls the app's webhooks like Twilio, walks the returned TwiML on behalf of
emulated phones, and serves the REST API that twilio-python talks to::

    emu = TwilioEmulator(account_sid, auth_token, voice_url=..., port=0).start()
    client.api.base_url = emu.base_url
    rec = emu.place_inbound_call(from_="+32470123456", keys=["2", "#"])
"""

from emulator.core import TwilioEmulator
from emulator.phones import Phone
from emulator.records import CallRecord
from emulator.twiml import APP_ERROR_MESSAGE

__all__ = ["APP_ERROR_MESSAGE", "CallRecord", "Phone", "TwilioEmulator"]
