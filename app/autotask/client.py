"""The Autotask REST client: zone discovery, the three headers, and errors made explicit.

Autotask serves each tenant from one zone; ``zoneInformation?user=…`` says which, and
the answer is cached per process. Every call carries ``ApiIntegrationCode``,
``UserName`` and ``Secret``. A client made for a waiting caller has a time budget
for all its calls together, so a slow instance never leaves the caller in silence.
"""

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import current_app

from app.autotask.errors import (
    AutotaskAuthError,
    AutotaskConfigError,
    AutotaskError,
    AutotaskRequestError,
    AutotaskServerError,
    AutotaskThrottled,
    AutotaskTimeout,
    AutotaskUnreachable,
)

log = logging.getLogger(__name__)

#: The API version the desk speaks; the zone URL is ``…/ATServicesRest/`` and paths follow ``V1.0/``.
API_VERSION = "V1.0"
#: An answer slower than this is logged: Autotask adds latency as the hourly threshold nears.
SLOW_SECONDS = 2.0
#: Less time than this left in a caller's budget is not worth a request.
MIN_REQUEST_SECONDS = 0.05
ZONE_CACHE_SECONDS = 24 * 3600


@dataclass
class AutotaskCache:
    """Per-process memory of the zone URL and field metadata (both change rarely)."""

    zone_url: str | None = None
    zone_until: float = 0.0
    fields: dict[str, tuple[list[dict], float]] = field(default_factory=dict)


def cache() -> AutotaskCache:
    return current_app.extensions.setdefault("autotask", AutotaskCache())


class AutotaskClient:
    """One conversation with Autotask, within ``budget`` seconds when a caller is waiting."""

    def __init__(self, *, timeout: float, budget: float | None = None) -> None:
        config = current_app.config
        self.username = config["AUTOTASK_USERNAME"]
        self.secret = config["AUTOTASK_SECRET"]
        self.integration_code = config["AUTOTASK_INTEGRATION_CODE"]
        if not (self.username and self.secret and self.integration_code):
            raise AutotaskConfigError(
                "Autotask is not configured: set AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE."
            )
        self.zone_lookup_url = config["AUTOTASK_ZONE_URL"]
        self.fixed_api_url = config["AUTOTASK_API_URL"]
        self.timeout = timeout
        self.deadline = time.monotonic() + budget if budget is not None else None
        self.session = requests.Session()

    @classmethod
    def for_caller(cls) -> "AutotaskClient":
        """While a caller waits: every call together within AUTOTASK_CALLER_SECONDS."""
        seconds = current_app.config["AUTOTASK_CALLER_SECONDS"]
        return cls(timeout=seconds, budget=seconds)

    @classmethod
    def for_worker(cls) -> "AutotaskClient":
        """In a job: each call within AUTOTASK_TIMEOUT_SECONDS."""
        return cls(timeout=current_app.config["AUTOTASK_TIMEOUT_SECONDS"])

    # -- the zone -------------------------------------------------------------------------------

    def api_url(self) -> str:
        """``https://webservicesN.autotask.net/ATServicesRest/V1.0/`` for this tenant."""
        if self.fixed_api_url:
            return self.fixed_api_url.rstrip("/") + "/"
        memory = cache()
        if memory.zone_url is None or memory.zone_until < time.monotonic():
            zone = self._send("GET", self.zone_lookup_url, params={"user": self.username}, authenticate=False)
            url = zone.get("url") if isinstance(zone, dict) else None
            if not url:
                raise AutotaskError(f"Autotask's zoneInformation gave no URL for {self.username}.")
            memory.zone_url = f"{url.rstrip('/')}/{API_VERSION}/"
            memory.zone_until = time.monotonic() + ZONE_CACHE_SECONDS
        return memory.zone_url

    # -- calls ----------------------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self._send("GET", self.api_url() + path, params=params or None)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("POST", self.api_url() + path, body=body)

    def patch(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("PATCH", self.api_url() + path, body=body)

    def query(self, entity: str, conditions: list[dict], max_records: int = 500) -> list[dict[str, Any]]:
        """Every record matching ``conditions``, following ``nextPageUrl`` page by page."""
        page = self.post(f"{entity}/query", {"filter": conditions, "maxRecords": max_records})
        items = list(page.get("items") or [])
        while (next_url := (page.get("pageDetails") or {}).get("nextPageUrl")) is not None:
            page = self._send("GET", next_url)
            items.extend(page.get("items") or [])
        return items

    def first(self, entity: str, conditions: list[dict]) -> dict[str, Any] | None:
        items = self.post(f"{entity}/query", {"filter": conditions, "maxRecords": 1}).get("items") or []
        return items[0] if items else None

    def fields(self, entity: str) -> list[dict[str, Any]]:
        """``<entity>/entityInformation/fields``, cached for AUTOTASK_CACHE_SECONDS."""
        memory = cache()
        cached = memory.fields.get(entity)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        described = self.get(f"{entity}/entityInformation/fields").get("fields") or []
        memory.fields[entity] = (described, time.monotonic() + current_app.config["AUTOTASK_CACHE_SECONDS"])
        return described

    def _headers(self) -> dict[str, str]:
        return {
            "ApiIntegrationCode": self.integration_code,
            "UserName": self.username,
            "Secret": self.secret,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict | None = None,
        body: dict | None = None,
        authenticate: bool = True,
    ) -> dict[str, Any]:
        what = f"{method} {url.split('?')[0].rsplit(API_VERSION + '/', 1)[-1]}"
        timeout = self._time_left(what)
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=body,
                headers=self._headers() if authenticate else {"Accept": "application/json"},
                timeout=timeout,
            )
        except requests.Timeout as error:
            raise AutotaskTimeout(
                f"Autotask did not answer {what} within {timeout:.1f} s "
                "(it is down, or slowing requests down near its hourly threshold)."
            ) from error
        except requests.RequestException as error:
            raise AutotaskUnreachable(f"Autotask could not be reached for {what}: {error}") from error
        elapsed = time.monotonic() - started
        if elapsed > SLOW_SECONDS:
            log.warning("Autotask took %.1f s to answer %s: the hourly request threshold may be near", elapsed, what)
        if response.status_code >= 400:
            raise _error_for(response, what)
        try:
            return response.json() if response.content else {}
        except ValueError as error:
            raise AutotaskServerError(f"Autotask answered {what} with something that is not JSON.") from error

    def _time_left(self, what: str) -> float:
        if self.deadline is None:
            return self.timeout
        left = min(self.timeout, self.deadline - time.monotonic())
        if left < MIN_REQUEST_SECONDS:
            raise AutotaskTimeout(f"No time left to ask Autotask for {what}: a caller is waiting.")
        return left


def _error_for(response: requests.Response, what: str) -> AutotaskError:
    """Autotask's ``{"errors": [...]}`` body, turned into the exception for its status."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    messages = [str(message) for message in body.get("errors") or []] if isinstance(body, dict) else []
    if not messages:
        messages = [response.text.strip()[:300] or response.reason or "no details"]
    detail = " ".join(messages)
    if status in (401, 403):
        return AutotaskAuthError(
            f"Autotask refused the credentials for {what} ({status}): {detail} "
            "Check AUTOTASK_USERNAME, AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE and the API user's security level.",
            status=status,
            messages=messages,
        )
    if status == 429:
        return AutotaskThrottled(
            f"Autotask's hourly request threshold is exceeded ({what}): {detail}", status=status, messages=messages
        )
    if status >= 500:
        return AutotaskServerError(f"Autotask failed on {what} ({status}): {detail}", status=status, messages=messages)
    return AutotaskRequestError(f"Autotask refused {what} ({status}): {detail}", status=status, messages=messages)
