"""What can go wrong talking to Autotask, as exceptions that say so plainly.

``AutotaskUnavailable`` and its subclasses are passing trouble (throttled, slow, down):
the desk keeps the ticket locally and pushes it later. The others need a person
(credentials, configuration, a refused record) and are logged with Autotask's own words.
"""


class AutotaskError(Exception):
    """Any failure of an Autotask call; ``messages`` are Autotask's ``errors`` when it sent some."""

    def __init__(self, message: str, *, status: int | None = None, messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.messages = messages or []


class AutotaskConfigError(AutotaskError):
    """The desk's Autotask settings are incomplete or name a picklist label the instance lacks."""


class AutotaskAuthError(AutotaskError):
    """401/403: the UserName, Secret or ApiIntegrationCode is wrong, or the API user lacks rights."""


class AutotaskRequestError(AutotaskError):
    """Another 4xx: Autotask refused the request (a required field, an inactive value, no such record)."""


class AutotaskUnavailable(AutotaskError):
    """Passing trouble: try again later."""


class AutotaskThrottled(AutotaskUnavailable):
    """429: the instance's hourly request threshold is exceeded."""


class AutotaskServerError(AutotaskUnavailable):
    """5xx: Autotask failed on its side (the request may or may not have been carried out)."""


class AutotaskTimeout(AutotaskUnavailable):
    """No answer in time: down, or slowed down near its hourly threshold. The outcome is unknown."""


class AutotaskUnreachable(AutotaskUnavailable):
    """The connection failed (refused, reset, no route)."""
