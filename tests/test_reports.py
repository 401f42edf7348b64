"""The managers' reports: every figure recomputed here, row by row in Python, from a seeded month.

March 2026 in Brussels holds a clock change (29 March, 02:00 → 03:00), so days and weeks are
held to the desk's clock on both sides of it.
"""

import csv
import io
import math
import random
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest

from app.clock import as_utc, local
from app.extensions import db
from app.models import (
    AttemptOutcome,
    Call,
    Callback,
    CallbackAttempt,
    Company,
    Contact,
    Survey,
    Technician,
    Ticket,
    UrgentTransfer,
)
from app.web import report_figures as reports
from app.web.report_figures import Period
from app.web.reports import preset_range
from tests.helpers import add_user, log_in

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), "day")
#: Seeded moments run from a day before the range to a day after it, so the edges are tested.
SEED_START = datetime(2026, 2, 27, 0, 0)
SEED_SECONDS = 34 * 86400
OUTCOMES = [None, "queued", "ticket_read", "no_number", "put_through", "kept_place"]


def moment(rng: random.Random) -> datetime:
    return SEED_START + timedelta(seconds=rng.randrange(SEED_SECONDS))


@pytest.fixture
def month(app):
    """A month of calls, tickets, callbacks, attempts, urgent transfers and surveys, from a fixed seed."""
    rng = random.Random(15)
    companies = [Company(name=f"Company {n}") for n in range(4)]
    db.session.add_all(companies)
    db.session.flush()
    contacts = [
        Contact(name=f"Contact {n}", company_id=rng.choice([None, *[c.id for c in companies]])) for n in range(8)
    ]
    technicians = [Technician(name=f"Tech {n}", phone=f"+3247000010{n}") for n in range(3)]
    db.session.add_all(contacts + technicians)
    db.session.flush()
    for n in range(400):
        started = moment(rng)
        db.session.add(
            Call(
                sid=f"CA{n:032d}",
                language="nl",
                started_at=started,
                ended_at=started + timedelta(seconds=rng.randrange(20, 400)) if rng.random() < 0.95 else None,
                outcome=rng.choice(OUTCOMES),
                contact_id=rng.choice([None, *[c.id for c in contacts]]),
            )
        )
    tickets = []
    for n in range(300):
        tickets.append(
            Ticket(
                number=f"T{n:08d}",
                title="x",
                created_at=moment(rng),
                company_id=rng.choice([None, None, *[c.id for c in companies]]),
                contact_id=rng.choice([None, *[c.id for c in contacts]]),
            )
        )
    db.session.add_all(tickets)
    db.session.flush()
    for n in range(250):
        queued = moment(rng)
        status = rng.choice(["completed", "completed", "completed", "unreachable", "cancelled", "waiting"])
        ended = queued + timedelta(seconds=rng.randrange(60, 20000)) if status != "waiting" else None
        callback = Callback(
            ticket_id=tickets[n].id,
            phone=f"+3247100{n:04d}",
            language="nl",
            priority=rng.randint(1, 4),
            status=status,
            queued_at=queued,
            ended_at=ended,
        )
        db.session.add(callback)
        db.session.flush()
        for _ in range(rng.randrange(3)):
            started = queued + timedelta(seconds=rng.randrange(10, 3000))
            outcome = rng.choice([o for o in AttemptOutcome if o != AttemptOutcome.CONNECTED])
            db.session.add(
                CallbackAttempt(
                    callback_id=callback.id,
                    technician_id=rng.choice(technicians).id,
                    status="ended",
                    outcome=outcome,
                    started_at=started,
                    ended_at=started + timedelta(seconds=rng.randrange(5, 90)),
                    talk_seconds=rng.randrange(30) if outcome in reports.ACCEPTED_OUTCOMES else None,
                )
            )
        if status == "completed":
            talk = rng.randrange(30, 900)
            db.session.add(
                CallbackAttempt(
                    callback_id=callback.id,
                    technician_id=rng.choice(technicians).id,
                    status="ended",
                    outcome=AttemptOutcome.CONNECTED,
                    started_at=ended - timedelta(seconds=talk + 40),
                    answered_at=ended - timedelta(seconds=talk + 30),
                    ended_at=ended,
                    # A few talks longer than the wait: the time to callback is then 0, never negative.
                    talk_seconds=talk if n % 25 else 30000,
                )
            )
    for n in range(40):
        status = rng.choice(["connected", "ended", "queued", "ringing"])
        oncall = status in ("connected", "ended") and rng.random() < 0.3
        db.session.add(
            UrgentTransfer(
                call_sid=f"CU{n:032d}",
                ticket_id=tickets[n].id,
                status=status,
                technician_id=rng.choice(technicians).id if status in ("connected", "ended") and not oncall else None,
                taken_by_oncall=oncall,
                started_at=moment(rng),
            )
        )
    for n in range(150):
        sent = moment(rng) if rng.random() < 0.9 else None
        rated = sent + timedelta(seconds=rng.randrange(100, 300000)) if sent and rng.random() < 0.6 else None
        commented = rated + timedelta(seconds=30) if rated and rng.random() < 0.5 else None
        db.session.add(
            Survey(
                ticket_id=tickets[n].id,
                state="sent" if sent else "queued",
                sent_at=sent,
                rating=rng.randint(1, 5) if rated else None,
                rated_at=rated,
                comment=f"comment {n}" if commented else None,
                commented_at=commented,
            )
        )
    db.session.commit()


def day_of(moment: datetime | None) -> date | None:
    """The desk day of a stored moment, as a person in Brussels reads it."""
    return local(moment).date() if moment is not None else None


def in_march(moment: datetime | None) -> bool:
    return moment is not None and MARCH.first <= day_of(moment) <= MARCH.last


def rows_by_label(table) -> dict[str, list]:
    return {str(row[0]): row[1:] for row in table.rows}


def test_volumes_match_the_raw_rows(month):
    table = rows_by_label(reports.volumes(MARCH))
    assert len(table) == 31
    calls = db.session.query(Call).all()
    tickets = db.session.query(Ticket).all()
    callbacks = db.session.query(Callback).all()
    for offset in range(31):
        day = MARCH.first + timedelta(days=offset)
        expected = [
            sum(day_of(c.started_at) == day for c in calls),
            sum(day_of(c.started_at) == day and c.ended_at is not None and c.outcome is None for c in calls),
            sum(day_of(t.created_at) == day for t in tickets),
            *(sum(day_of(c.queued_at) == day and c.priority == p for c in callbacks) for p in (1, 2, 3, 4)),
            sum(day_of(c.ended_at) == day and c.status == "unreachable" for c in callbacks),
        ]
        assert table[day.isoformat()] == expected, day
    assert sum(table[d][0] for d in table) == sum(in_march(c.started_at) for c in calls) > 300


def test_weeks_run_monday_to_sunday_on_the_desk_clock(month):
    weekly = Period(date(2026, 3, 2), date(2026, 3, 29), "week")
    table = rows_by_label(reports.volumes(weekly))
    assert list(table) == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
    calls = db.session.query(Call).all()
    for monday in table:
        first = date.fromisoformat(monday)
        expected = sum(first <= day_of(c.started_at) <= first + timedelta(days=6) for c in calls)
        assert table[monday][0] == expected


def test_days_are_cut_at_midnight_in_brussels_on_both_sides_of_the_clock_change(app):
    edges = [
        datetime(2026, 3, 28, 22, 59, 59),  # 23:59:59 on the 28th (UTC+1)
        datetime(2026, 3, 28, 23, 0, 0),  # midnight: the 29th
        datetime(2026, 3, 29, 21, 59, 59),  # 23:59:59 on the 29th (UTC+2 since 03:00)
        datetime(2026, 3, 29, 22, 0, 0),  # midnight: the 30th
    ]
    for n, started in enumerate(edges):
        db.session.add(Call(sid=f"CE{n}", language="nl", started_at=started))
    db.session.commit()
    table = rows_by_label(reports.volumes(Period(date(2026, 3, 28), date(2026, 3, 30))))
    assert [table[d][0] for d in ("2026-03-28", "2026-03-29", "2026-03-30")] == [1, 2, 1]
    heat = {row[0]: row[1:] for row in reports.heat_map(Period(date(2026, 3, 28), date(2026, 3, 30))).rows}
    assert heat["Sat"][23] == 1 and heat["Sun"][0] == 1 and heat["Sun"][23] == 1 and heat["Mon"][0] == 1


def minutes_to_callback(callback: Callback) -> float:
    connected = next(
        a for a in db.session.query(CallbackAttempt).filter_by(callback_id=callback.id, outcome="connected")
    )
    reached = connected.ended_at - timedelta(seconds=connected.talk_seconds or 0)
    return max(0.0, (reached - callback.queued_at).total_seconds() / 60)


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(share * len(ordered)) - 1]


def test_time_to_callback_per_day_and_priority_match_the_raw_rows(app, month):
    targets = app.config["CALLBACK_TARGET_MINUTES"]
    table = reports.service_levels(MARCH)
    completed = [c for c in db.session.query(Callback).filter_by(status="completed") if in_march(c.ended_at)]
    groups = defaultdict(list)
    for callback in completed:
        groups[(day_of(callback.ended_at).isoformat(), callback.priority)].append(minutes_to_callback(callback))
    assert {(str(row[0]), row[1]) for row in table.rows} == set(groups)
    for label, priority, count, median, p90, target, within in table.rows:
        minutes = groups[(str(label), priority)]
        assert count == len(minutes)
        assert median == pytest.approx(statistics.median(minutes), abs=0.06)
        assert p90 == pytest.approx(nearest_rank(minutes, 0.9), abs=0.06)
        assert target == targets[priority]
        assert within == pytest.approx(sum(m <= target for m in minutes) / len(minutes), abs=0.001)
    for _label, priority, count, median, p90, _, _within in table.totals:
        minutes = [m for (_, p), values in groups.items() if p == priority for m in values]
        assert count == len(minutes) and median == pytest.approx(statistics.median(minutes), abs=0.06)
        assert p90 == pytest.approx(nearest_rank(minutes, 0.9), abs=0.06)
    assert min(m for values in groups.values() for m in values) == 0.0


def test_the_time_chart_is_the_pooled_median_of_each_day(month):
    completed = [c for c in db.session.query(Callback).filter_by(status="completed") if in_march(c.ended_at)]
    per_day = defaultdict(list)
    for callback in completed:
        per_day[day_of(callback.ended_at).isoformat()].append(minutes_to_callback(callback))
    for label, median in reports.median_times(MARCH):
        if str(label) in per_day:
            assert median == pytest.approx(statistics.median(per_day[str(label)]), abs=0.06)
        else:
            assert median is None


def test_attempts_and_urgent_transfers_match_the_raw_rows(month):
    attempts = [a for a in db.session.query(CallbackAttempt) if in_march(a.ended_at)]
    table = reports.attempts(MARCH)
    counted = Counter(a.outcome for a in attempts)
    assert table.totals[0][1:] == [counted.get(o.value, 0) for o in AttemptOutcome]
    by_day = rows_by_label(table)
    for attempt in attempts[:30]:
        day = day_of(attempt.ended_at)
        expected = sum(day_of(a.ended_at) == day and a.outcome == attempt.outcome for a in attempts)
        assert by_day[day.isoformat()][list(AttemptOutcome).index(attempt.outcome)] == expected

    transfers = [t for t in db.session.query(UrgentTransfer) if in_march(t.started_at)]
    assert reports.urgent_transfers(MARCH).totals[0] == [
        "total",
        len(transfers),
        sum(t.technician_id is not None for t in transfers),
        sum(t.taken_by_oncall for t in transfers),
        sum(t.status == "queued" for t in transfers),
    ]


def test_satisfaction_and_comments_match_the_raw_rows(month):
    surveys = db.session.query(Survey).all()
    table = reports.satisfaction(MARCH)
    by_day = rows_by_label(table)
    for offset in range(31):
        day = MARCH.first + timedelta(days=offset)
        rated = [s.rating for s in surveys if day_of(s.rated_at) == day]
        sent = [s for s in surveys if day_of(s.sent_at) == day]
        ratings, average, mailed, response = by_day[day.isoformat()]
        assert ratings == len(rated)
        assert average == (pytest.approx(sum(rated) / len(rated), abs=0.001) if rated else None)
        assert mailed == len(sent)
        answered = sum(s.rating is not None for s in sent)
        assert response == (pytest.approx(answered / len(sent), abs=0.001) if sent else None)
    all_rated = [s.rating for s in surveys if in_march(s.rated_at)]
    assert table.totals[0][1] == len(all_rated)
    assert table.totals[0][2] == pytest.approx(sum(all_rated) / len(all_rated), abs=0.001)
    written = sorted((s for s in surveys if in_march(s.commented_at)), key=lambda s: s.commented_at, reverse=True)
    assert [row[3] for row in reports.comments(MARCH).rows] == [s.comment for s in written]
    assert written


def test_technicians_match_the_raw_rows(month):
    attempts = [a for a in db.session.query(CallbackAttempt) if in_march(a.started_at)]
    rows = rows_by_label(reports.technicians(MARCH))
    for technician in db.session.query(Technician):
        own = [a for a in attempts if a.technician_id == technician.id]
        assert rows[technician.name] == [
            sum(a.outcome != "not_rung" for a in own),
            sum(a.outcome in reports.ACCEPTED_OUTCOMES for a in own),
            sum(a.outcome == "technician_skipped" for a in own),
            sum(a.outcome == "technician_missed" for a in own),
            sum(a.outcome == "connected" for a in own),
            round(sum(a.talk_seconds or 0 for a in own) / 60, 1),
        ]


def test_companies_match_the_raw_rows(month):
    rows = rows_by_label(reports.companies(MARCH))
    calls = [c for c in db.session.query(Call) if in_march(c.started_at)]
    tickets = [t for t in db.session.query(Ticket) if in_march(t.created_at)]
    for company in db.session.query(Company):
        expected_calls = sum(c.contact is not None and c.contact.company_id == company.id for c in calls)
        expected_tickets = sum(t.customer_company is not None and t.customer_company.id == company.id for t in tickets)
        if expected_calls or expected_tickets:
            assert rows[company.name] == [expected_calls, expected_tickets]
        else:
            assert company.name not in rows


def test_heat_map_and_queue_length_match_the_raw_rows(month):
    heat = {row[0]: row[1:] for row in reports.heat_map(MARCH).rows}
    calls = [c for c in db.session.query(Call) if in_march(c.started_at)]
    counted = Counter((local(c.started_at).weekday(), local(c.started_at).hour) for c in calls)
    for index, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")):
        assert heat[name] == [counted.get((index, hour), 0) for hour in range(24)]

    callbacks = db.session.query(Callback).all()
    for label, length in reports.queue_length(MARCH):
        end_of_day = as_utc(datetime.combine(label + timedelta(days=1), datetime.min.time(), local().tzinfo))
        assert length == sum(
            c.queued_at < end_of_day and (c.ended_at is None or c.ended_at >= end_of_day) for c in callbacks
        )


def test_presets_name_the_desk_days_they_cover():
    today = date(2026, 5, 14)  # a Thursday
    assert preset_range("today", today) == (today, today)
    assert preset_range("this_week", today) == (date(2026, 5, 11), today)
    assert preset_range("last_week", today) == (date(2026, 5, 4), date(2026, 5, 10))
    assert preset_range("this_month", today) == (date(2026, 5, 1), today)
    assert preset_range("last_month", today) == (date(2026, 4, 1), date(2026, 4, 30))
    assert preset_range("this_quarter", today) == (date(2026, 4, 1), today)
    assert preset_range("last_month", date(2026, 1, 3)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_a_manager_sees_the_report_and_exports_every_table(client, month):
    add_user("marie")
    log_in(client, "marie")
    page = client.get("/reports?from=2026-03-01&to=2026-03-31&by=week")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="heat-map"' in html and 'id="queue-chart"' in html and 'id="table-technicians"' in html
    for name in reports.TABLES:
        plain = client.get(f"/reports/{name}.csv?from=2026-03-01&to=2026-03-31")
        assert plain.status_code == 200 and plain.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(plain.get_data(as_text=True))))
        table = reports.TABLES[name](MARCH)
        assert rows[0] == list(table.columns)
        assert len(rows) == 1 + len(table.rows) + len(table.totals)
    excel = client.get("/reports/csat.csv?from=2026-03-01&to=2026-03-31&excel=1").get_data()
    assert excel.startswith("\ufeff".encode()) and b";" in excel.splitlines()[0]
    assert b"," in excel.splitlines()[-1]  # a decimal comma in the average


def test_free_text_in_an_export_cannot_run_as_a_formula(client, month):
    survey = db.session.query(Survey).filter(Survey.comment.is_not(None)).first()
    survey.comment = "=HYPERLINK(1)"
    survey.commented_at = datetime(2026, 3, 10, 12, 0)
    db.session.commit()
    add_user("marie")
    log_in(client, "marie")
    body = client.get("/reports/comments.csv?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in body


@pytest.mark.parametrize(
    "query",
    [
        "?from=garbage&to=2026-03-01",
        "?from=2020-01-01&to=2026-03-01",
        "?preset=nonsense",
        "?by=year",
        "?from=2026-03-05",
    ],
)
def test_a_request_not_understood_shows_this_month_and_says_so(client, query):
    add_user("marie")
    log_in(client, "marie")
    page = client.get("/reports" + query)
    assert page.status_code == 200
    assert 'class="flash problem"' in page.get_data(as_text=True)


def test_reports_are_for_managers_only(client):
    assert client.get("/reports").status_code == 401
    assert client.get("/reports/volumes.csv").status_code == 401
    technician = Technician(name="Tom", phone="+32470000199")
    db.session.add(technician)
    db.session.commit()
    add_user("tom", role="technician", technician=technician)
    log_in(client, "tom")
    assert client.get("/reports").status_code == 403


def test_an_unknown_table_is_not_found(client):
    add_user("marie")
    log_in(client, "marie")
    assert client.get("/reports/passwords.csv").status_code == 404
