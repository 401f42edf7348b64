"""Settings for the rq command line: ``rq worker -c app.rq_settings`` and ``rq cron -c app.rq_settings``.

The worker and cron processes reach Redis through the same ``REDIS_URL`` as the
web process, a plain URL or a ``redis+sentinel://`` one (app/redis_url.py).
rq reads the upper-case names below: ``REDIS_URL`` when set, else ``SENTINEL``.
"""

import os

from app.config import DEFAULT_REDIS_URL, checked_redis_url
from app.redis_url import rq_cli_settings

_settings = rq_cli_settings(checked_redis_url(os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL))

REDIS_URL = _settings["REDIS_URL"]
SENTINEL = _settings["SENTINEL"]
