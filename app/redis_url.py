"""``REDIS_URL``: one Redis, or a Redis watched by Sentinel (DESIGN §1, "Sentinel for HA").

A plain ``redis://`` / ``rediss://`` / ``unix://`` URL goes to ``Redis.from_url``.
With Sentinel the URL names the sentinels and the master they watch::

    redis+sentinel://[[username]:password@]host[:port][,host[:port]...]/master_name[/db]
                     [?sentinel_password=...]

(``rediss+sentinel://`` for TLS to the master; the port defaults to 26379, the
database to 0). Every process reads the same variable: the app through
:func:`connect`, ``rq worker`` and ``rq cron`` through ``-c app.rq_settings``,
which hands rq the same sentinels. After a failover the clients ask the
sentinels for the new master on their next connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

SENTINEL_SCHEMES = {"redis+sentinel": False, "rediss+sentinel": True}
DEFAULT_SENTINEL_PORT = 26379
#: How long a sentinel may take to answer before the next one is asked (seconds).
SENTINEL_TIMEOUT = 1.0


class RedisUrlError(ValueError):
    """A REDIS_URL this module cannot use; the message says what is wrong."""


@dataclass(frozen=True)
class SentinelTarget:
    instances: list[tuple[str, int]]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)
    ssl: bool = False


def sentinel_target(url: str) -> SentinelTarget | None:
    """The sentinels and master named by a ``redis+sentinel://`` URL; None for any other URL."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in SENTINEL_SCHEMES:
        return None
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    instances = [_host_port(part, url) for part in hosts.split(",") if part.strip()]
    if not instances:
        raise RedisUrlError(f"REDIS_URL {redacted(url)} names no sentinel (host:port[,host:port...])")
    parts = [part for part in path.split("/") if part]
    if not parts or len(parts) > 2:
        raise RedisUrlError(f"REDIS_URL {redacted(url)} must end in /master_name or /master_name/db")
    db = 0
    if len(parts) == 2:
        if not parts[1].isdigit():
            raise RedisUrlError(f"REDIS_URL {redacted(url)}: the database must be a number, not {parts[1]!r}")
        db = int(parts[1])
    options = parse_qs(query)
    return SentinelTarget(
        instances=instances,
        master=unquote(parts[0]),
        db=db,
        username=username,
        password=password,
        sentinel_password=options.get("sentinel_password", [None])[0],
        ssl=SENTINEL_SCHEMES[scheme.lower()],
    )


def _host_port(part: str, url: str) -> tuple[str, int]:
    part = part.strip()
    if part.startswith("["):  # [::1]:26379
        host, _, port = part[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
    if not host:
        raise RedisUrlError(f"REDIS_URL {redacted(url)}: {part!r} is not host[:port]")
    if port and not port.isdigit():
        raise RedisUrlError(f"REDIS_URL {redacted(url)}: {part!r} has no valid port")
    return host, int(port) if port else DEFAULT_SENTINEL_PORT


def connect(url: str, **connection_options) -> Redis:
    """A client for the Redis at ``url``; through Sentinel, for whichever server is master now."""
    target = sentinel_target(url)
    if target is None:
        return Redis.from_url(url, **connection_options)
    sentinel = Sentinel(
        target.instances,
        sentinel_kwargs=_sentinel_options(target),
        db=target.db,
        username=target.username,
        password=target.password,
        ssl=target.ssl,
        **connection_options,
    )
    return sentinel.master_for(target.master)


def rq_cli_settings(url: str) -> dict:
    """What ``rq worker`` / ``rq cron`` read from a settings module (``-c``) to reach the same Redis."""
    target = sentinel_target(url)
    if target is None:
        return {"REDIS_URL": url, "SENTINEL": None}
    return {
        "REDIS_URL": None,
        "SENTINEL": {
            "INSTANCES": target.instances,
            "MASTER_NAME": target.master,
            "DB": target.db,
            "USERNAME": target.username,
            "PASSWORD": target.password,
            "SSL": target.ssl,
            "SENTINEL_KWARGS": _sentinel_options(target),
        },
    }


def _sentinel_options(target: SentinelTarget) -> dict:
    """How to talk to the sentinels themselves: briefly, and no retry — the next sentinel is the retry."""
    return {
        "socket_timeout": SENTINEL_TIMEOUT,
        "socket_connect_timeout": SENTINEL_TIMEOUT,
        "password": target.sentinel_password,
        "retry": Retry(NoBackoff(), 0),
    }


def describe(error: Exception) -> str:
    """An error from the Redis client on one line, without the connection pool's repr."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text.split(" : <", 1)[0]


def redacted(url: str) -> str:
    """The URL with its password replaced by ``***``, for logs and ``check``."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    netloc, slash, tail = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    tail, question, query = tail.partition("?")
    if query:
        query = "&".join(
            (key + "=***") if key.lower().endswith("password") else item
            for item in query.split("&")
            for key in [item.partition("=")[0]]
        )
    return f"{scheme}://{userinfo}{at}{hosts}{slash}{tail}{question}{query}"
