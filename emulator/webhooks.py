"""Signed webhook requests to the app, and TwiML documents parsed from the answers."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import requests
from twilio.request_validator import RequestValidator

# Twilio's own webhook timeout.
DEFAULT_TIMEOUT = 15.0

HTTP_RETRIEVAL_FAILURE = 11200
HTTP_CONNECTION_FAILURE = 11205
DOCUMENT_PARSE_FAILURE = 12100


@dataclass(frozen=True)
class Document:
    """A TwiML <Response> and the URL it came from (base for relative URLs)."""

    root: ET.Element
    url: str


@dataclass(frozen=True)
class WebhookError:
    """Why a webhook did not yield usable TwiML, with Twilio's error code."""

    code: int
    message: str
    url: str


@dataclass(frozen=True)
class WebhookResult:
    """The app's answer to one webhook (status None when it never answered)."""

    url: str
    status: int | None
    content: bytes
    error: WebhookError | None


RequestSink = Callable[[dict[str, object]], None]


class Webhooks:
    """Makes Twilio-style webhook requests: form-encoded and signed.

    Each thread uses its own `requests.Session`, so concurrent calls never share
    a connection. Every request is reported to `sink` for `emu.requests`.
    """

    def __init__(self, auth_token: str, sink: RequestSink, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.validator = RequestValidator(auth_token)
        self.sink = sink
        self.timeout = timeout
        #: Deliver every request twice, the second answer counting: a provider retrying a
        #: request it thinks was lost (Twilio's connection overrides, ``#rc=``), which every
        #: webhook must survive (https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides).
        self.deliver_twice = False
        self._local = threading.local()

    def _session(self) -> requests.Session:
        """This thread's HTTP session."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def send(self, url: str, params: Mapping[str, str], method: str = "POST") -> WebhookResult:
        """Request `url` like Twilio does and return the app's answer.

        POST sends the params as a form body; GET appends them to the query
        string. Either way X-Twilio-Signature covers the exact URL requested.
        """
        method = "GET" if method.upper() == "GET" else "POST"
        params = dict(params)
        status: int | None = None
        content = b""
        error: WebhookError | None = None
        try:
            if self.deliver_twice:
                self._request(url, params, method)
            response = self._request(url, params, method)
            status, content = response.status_code, response.content
            if not 200 <= status < 300:
                error = WebhookError(
                    HTTP_RETRIEVAL_FAILURE,
                    f"application error: HTTP {status} from {url}",
                    url,
                )
        except requests.RequestException as exc:
            error = WebhookError(
                HTTP_CONNECTION_FAILURE,
                f"application error: no response from {url} ({type(exc).__name__})",
                url,
            )
        self.sink(
            {
                "url": url,
                "method": method,
                "params": params,
                "status": status,
                "body": content.decode("utf-8", "replace"),
            }
        )
        return WebhookResult(url, status, content, error)

    def _request(self, url: str, params: dict[str, str], method: str) -> requests.Response:
        """Perform the signed HTTP request."""
        headers = {"User-Agent": "TwilioProxy/1.1 (emulator)"}
        if method == "GET":
            separator = "&" if urlsplit(url).query else "?"
            full_url = f"{url}{separator}{urlencode(params)}" if params else url
            headers["X-Twilio-Signature"] = self.validator.compute_signature(full_url, {})
            return self._session().get(full_url, headers=headers, timeout=self.timeout)
        headers["X-Twilio-Signature"] = self.validator.compute_signature(url, params)
        return self._session().post(url, data=params, headers=headers, timeout=self.timeout)

    def fetch_twiml(self, url: str, params: Mapping[str, str], method: str = "POST") -> Document | WebhookError:
        """Request `url` and parse the answer as a TwiML document."""
        result = self.send(url, params, method)
        if result.error is not None:
            return result.error
        return parse_twiml(result.content, url)


def parse_twiml(content: bytes | str, url: str) -> Document | WebhookError:
    """Parse a TwiML answer; anything but a <Response> document is error 12100."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        return WebhookError(DOCUMENT_PARSE_FAILURE, f"invalid TwiML from {url}: {exc}", url)
    if root.tag != "Response":
        return WebhookError(
            DOCUMENT_PARSE_FAILURE,
            f"invalid TwiML from {url}: root element <{root.tag}> is not <Response>",
            url,
        )
    return Document(root, url)
