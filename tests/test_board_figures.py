"""The board's figures and charts: definitions held to by numbers."""

from datetime import datetime, timedelta

from app.clock import day_start
from app.extensions import db
from app.models import Callback, Ticket
from app.web.charts import distribution_chart, queue_chart
from app.web.figures import distribution, nearest_rank, per_priority, queue_length_series


def test_p90_is_the_nearest_rank():
    assert nearest_rank(list(range(1, 11)), 0.9) == 9
    assert nearest_rank([5.0], 0.9) == 5.0
    assert nearest_rank([1, 2, 3, 100], 0.9) == 100


def test_the_day_starts_at_midnight_in_brussels():
    # 23:30 UTC on 27 November is already the 28th in Brussels (UTC+1 in winter).
    assert day_start(datetime(2026, 11, 27, 23, 30)) == datetime(2026, 11, 27, 23, 0)
    # Summer time: UTC+2.
    assert day_start(datetime(2026, 7, 1, 12, 0)) == datetime(2026, 6, 30, 22, 0)


def test_per_priority_figures_use_each_prioritys_target(app):
    app.config["CALLBACK_TARGET_MINUTES"] = {1: 15, 2: 30, 3: 120, 4: 480}
    figures = {f.priority: f for f in per_priority([(1, 10.0), (1, 20.0), (1, 14.0), (3, 200.0)])}
    assert (figures[1].completed, figures[1].median_minutes, figures[1].p90_minutes) == (3, 14.0, 20.0)
    assert round(figures[1].within_target, 2) == 0.67
    assert figures[3].within_target == 0.0
    assert figures[2].median_minutes is None and figures[2].within_target is None


def test_the_distribution_counts_each_band_once():
    bands = dict(distribution([0.5, 4.9, 5.0, 29.0, 300.0]))
    assert bands["0-5 min"] == 2 and bands["5-15 min"] == 1 and bands["15-30 min"] == 1 and bands["> 240 min"] == 1
    assert sum(bands.values()) == 5


def test_queue_length_counts_callbacks_open_at_each_moment(app):
    since = datetime(2026, 11, 27, 7, 0)
    ticket = Ticket(number="T20261127.0001", title="x")
    db.session.add(ticket)
    db.session.flush()
    for phone, queued, ended in (
        ("+32470000001", since + timedelta(hours=1, minutes=3), since + timedelta(hours=1, minutes=25)),
        ("+32470000002", since + timedelta(hours=1, minutes=12), None),
    ):
        db.session.add(
            Callback(
                ticket_id=ticket.id,
                phone=phone,
                language="nl",
                priority=4,
                queued_at=queued,
                ended_at=ended,
                status="completed" if ended else "waiting",
            )
        )
    db.session.commit()
    series = queue_length_series(since, since + timedelta(hours=1, minutes=40))
    counts = {moment.strftime("%H:%M"): count for moment, count in series}
    assert counts == {"08:00": 0, "08:10": 1, "08:20": 2, "08:30": 1, "08:40": 1}

    chart = queue_chart(series)
    assert not chart["empty"] and chart["top"] == 2 and chart["ticks"][0][1] == "09:00"  # Brussels time
    assert queue_chart([])["empty"]


def test_distribution_chart_bars_scale_to_the_largest_band():
    chart = distribution_chart([("0-5 min", 4), ("5-15 min", 2), ("> 15 min", 0)])
    first, second, third = chart["bars"]
    assert chart["top"] == 5 and second.height == first.height / 2 and third.height == 0
