"""Outbound calls paced to the provider account's calls per second (DESIGN §2).

A Twilio account places ``TWILIO_CPS`` calls per second (1 for a new account) and
queues the rest, so a call created beyond it rings late — and an offer counted from
its creation would expire unrung. Every worker and host takes its turn from one
schedule in Redis: each call reserves the next free slot, ``1 / TWILIO_CPS`` after
the last one (the time comes from Redis, so hosts' clocks do not matter), and waits
for it. A claimed batch reserves its slots at once, in the order they are asked for,
so calls leave in queue order. Without Redis the call goes out at once: the provider queues it.
"""

import logging
import time

from flask import current_app

from app.queueing import redis_connection

log = logging.getLogger(__name__)

SCHEDULE_KEY = "telephony:next-call-slot"
SENT_KEY = "telephony:calls-sent"
#: The provider counts calls per second as they arrive; a margin for the request's own travel (on a busy
#: machine a request leaves up to a tenth of a second after it was cleared).
WINDOW_MICROSECONDS = 1_150_000

#: The last TWILIO_CPS calls' send times (newest first): 0 when one more may go now, else the
#: microseconds until the oldest of them leaves the window. Sending records the time.
CLEAR_TO_SEND = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local cps = tonumber(ARGV[1])
if redis.call('LLEN', KEYS[1]) >= cps then
  local oldest = tonumber(redis.call('LINDEX', KEYS[1], cps - 1))
  if now_us - oldest < tonumber(ARGV[2]) then
    return tostring(tonumber(ARGV[2]) - (now_us - oldest))
  end
end
redis.call('LPUSH', KEYS[1], tostring(now_us))
redis.call('LTRIM', KEYS[1], 0, cps - 1)
redis.call('PEXPIRE', KEYS[1], 10000)
return '0'
"""

#: Reserve the next ARGV[2] slots at once: the first is max(now, last + interval); returns how far
#: ahead it is, in microseconds of Redis time.
RESERVE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local first = math.max(now_us, last + interval)
redis.call('SET', KEYS[1], tostring(first + (tonumber(ARGV[2]) - 1) * interval), 'PX', 600000)
return tostring(first - now_us)
"""


def interval_seconds() -> float:
    """Slots are spaced by the same window the rate check uses, so a call on its slot is clear to send."""
    return WINDOW_MICROSECONDS / 1e6 / max(current_app.config["TWILIO_CPS"], 0.001)


def turns(calls: int) -> list[float]:
    """Reserve consecutive slots for ``calls`` calls (a claimed batch, in queue order).

    Returns each call's time to go, on this process's monotonic clock. Reserving
    the batch at once keeps queue order across workers: a batch claimed later
    goes after every call of this one.
    """
    interval = interval_seconds()
    try:
        ahead = int(redis_connection().eval(RESERVE, 1, SCHEDULE_KEY, int(interval * 1_000_000), calls)) / 1e6
    except Exception:
        log.warning("Redis down: calls are not paced (the provider queues the excess)")
        return [0.0] * calls
    start = time.monotonic() + ahead
    return [start + index * interval for index in range(calls)]


def wait_for(turn: float, most_seconds: float | None = None) -> None:
    """Sleep until ``turn`` (from ``turns``), or at most ``most_seconds``."""
    wait = turn - time.monotonic()
    if most_seconds is not None:
        wait = min(wait, most_seconds)
    if wait > 0:
        time.sleep(wait)


def clear_to_send() -> None:
    """Right before the REST request: wait while TWILIO_CPS calls already went out in the last second.

    The schedule of ``turns`` keeps the order; this keeps the rate when a call left its
    slot late (a slow database read, a busy machine) and the next one is on time.
    """
    cps = max(int(current_app.config["TWILIO_CPS"]), 1)
    for _ in range(20):
        try:
            wait = int(redis_connection().eval(CLEAR_TO_SEND, 1, SENT_KEY, cps, WINDOW_MICROSECONDS)) / 1e6
        except Exception:
            return
        if wait <= 0:
            return
        time.sleep(wait)


def take_turn(most_seconds: float | None = None) -> None:
    """One call's turn: an urgent leg placed from a webhook caps its wait (the provider's
    webhook timeout is 15 s); past it the call goes out anyway and the provider queues it."""
    wait_for(turns(1)[0], most_seconds)
    clear_to_send()


def batch_allowance(batch_size: int) -> float:
    """How long a claimed offer may wait for its slot: the schedule already reserved, plus a batch.

    The reconciler's bound for an offer that was never rung allows this, so an offer
    waiting its turn is not taken for one whose dispatcher died.
    """
    try:
        reserved_until = int(redis_connection().get(SCHEDULE_KEY) or 0) / 1e6
        seconds, micro = redis_connection().time()
        backlog = max(reserved_until - (seconds + micro / 1e6), 0.0)
    except Exception:
        backlog = 0.0
    return backlog + batch_size * interval_seconds()
