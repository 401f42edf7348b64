"""The yardstick of bench/webhooks.py: a bare Flask app that answers every webhook with fixed TwiML.

Served by the same gunicorn command as the desk, it measures what the server,
Flask and the loopback cost on their own; the desk's throughput is given as a
share of it. The document is the size of the desk's language menu.
"""

from flask import Flask, Response

app = Flask(__name__)

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="http://127.0.0.1/voice/language?try=0" numDigits="1" timeout="6">'
    '<Say language="nl-BE" voice="Polly.Lisa-Neural">Voor Nederlands, druk 1.</Say>'
    '<Say language="fr-BE" voice="Polly.Isabelle-Neural">Pour le français, appuyez sur 2.</Say>'
    '<Say language="en-GB" voice="Polly.Amy-Neural">For English, press 3.</Say>'
    "</Gather><Redirect>http://127.0.0.1/voice/language?try=0</Redirect></Response>"
)


@app.post("/voice/<path:step>")
def webhook(step: str) -> Response:
    return Response(TWIML, mimetype="text/xml")
