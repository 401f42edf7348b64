"""A small storm while everything breaks at once (bench/faults.py --together), on real processes.

The desk runs as the Procfile runs it (gunicorn, rq workers, rq cron) on a PostgreSQL
cluster and a redis-server of its own, which the run restarts. Runs once per CI run,
in the PostgreSQL pass.
"""

import os

import pytest

from bench.faults import FaultStorm, together
from bench.storm import StormSettings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
        reason="runs in the PostgreSQL pass (it starts a PostgreSQL cluster of its own)",
    ),
]


def test_nothing_is_lost_doubled_or_forged_when_everything_breaks_during_a_storm():
    settings = StormSettings(
        callers=24, arrival_seconds=12, technicians=5, workers=2, timeout=420, private_services=True
    )
    report = FaultStorm(settings, together(settings.arrival_seconds)).run()
    summary = "\n".join(report.lines)
    assert len([line for line in report.lines if line.startswith("injected:")]) == 6, summary
    assert report.problems["forged accepted"] == 0, summary
    assert {name: count for name, count in report.problems.items() if count} == {}, summary
