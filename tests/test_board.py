"""The manager's board: what it shows, its actions, the CSV export."""

import csv
import io
import re
from datetime import timedelta

import pytest

from app import clock
from app.clock import utcnow
from app.extensions import db
from app.models import Callback, CallbackAttempt, Survey, Technician, Ticket
from app.tickets import ticket_store
from app.web import board
from callbacks import urgent
from callbacks.queue import queue_callback
from tests.helpers import add_contact, add_technician, add_user, csrf_token_of, log_in


@pytest.fixture
def manager(client):
    """A logged-in manager's client and the CSRF token of the session."""
    add_user("boss")
    log_in(client, "boss")
    client.token = csrf_token_of(client.get("/board").get_data(as_text=True))
    return client


def new_callback(
    phone: str, priority: int = 4, title: str = "Printer jammed", contact=None, minutes_ago: int = 0, now=None
):
    ticket = ticket_store().create(
        title=title, caller_phone=phone, contact_id=contact.id if contact else None, priority=priority
    )
    callback, _ = queue_callback(ticket, phone, priority, "nl")
    callback.queued_at = callback.due_at = (now or utcnow()) - timedelta(minutes=minutes_ago)
    db.session.commit()
    return callback


def htmx_post(client, path: str, **form):
    return client.post(path, data=form, headers={"HX-Request": "true", "X-CSRFToken": client.token})


def test_the_board_lists_waiting_callbacks_in_queue_order_with_their_details(manager):
    an = add_contact("An Peeters", "+32470123456", company="Brouwerij De Klok")
    new_callback("+32470123456", priority=3, title="Mail server down", contact=an, minutes_ago=12)
    first = new_callback("+32475987654", priority=2, minutes_ago=3)
    page = manager.get("/board/live").get_data(as_text=True)

    rows = page.split('<tr data-callback="')[1:]
    assert rows[0].startswith(str(first.id)) and "<td>1</td>" in rows[0] and "P2" in rows[0]
    assert "0475 98 76 54" in rows[0]  # no contact: the number, in national format
    second = rows[1]
    for shown in ("<td>2</td>", "P3", "An Peeters", "Brouwerij De Klok", "Mail server down", "<td>nl</td>", "12 min"):
        assert shown in second
    assert 'data-figure="waiting">2<' in page


def test_the_board_shows_calls_in_progress_and_technicians_with_time_in_state(manager):
    jan = add_technician("Jan Janssens", "+32470000001", state="on_call")
    add_technician("Marie Dubois", "+32470000002", state="away")
    callback = new_callback("+32470123456", priority=1)
    callback.status, callback.technician_id = "in_progress", jan.id
    jan.state_since = utcnow() - timedelta(minutes=7)
    db.session.commit()
    page = manager.get("/board/live").get_data(as_text=True)

    in_progress = page.split('id="in-progress"')[1].split("</table>")[0]
    assert "calling customer" in in_progress and "Jan Janssens" in in_progress
    technicians = page.split('id="technicians"')[1].split("</table>")[0]
    assert "on call" in technicians and "7 min" in technicians and "away" in technicians


def test_urgent_calls_in_progress_show_with_who_took_them(manager):
    contact = add_contact("An Peeters", "+32470123456", company="Brouwerij De Klok")
    ticket = ticket_store().create(
        title="Server down", priority=1, contact_id=contact.id, company_id=contact.company_id
    )
    tom = add_technician("Tom Claes", "+32470000003")
    ongoing = urgent.start("CA" + "9" * 32, ticket, "+32470123456", oncall_only=False)
    urgent.ring_technicians(ongoing)
    rows = manager.get("/board/live").get_data(as_text=True).split('id="in-progress"')[1]
    assert "urgent: ringing technicians" in rows and ticket.number in rows and "An Peeters" in rows
    assert urgent.accept(ongoing, tom.id)
    rows = manager.get("/board/live").get_data(as_text=True).split('id="in-progress"')[1]
    assert "urgent: live" in rows and "Tom Claes" in rows
    urgent.call_over(ongoing, 60)
    assert 'class="urgent"' not in manager.get("/board/live").get_data(as_text=True)


def test_a_manager_cancels_a_waiting_callback(manager):
    callback = new_callback("+32470123456")
    answer = htmx_post(manager, f"/board/callbacks/{callback.id}/cancel")
    assert answer.status_code == 200 and "cancelled" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Callback, callback.id).status == "cancelled"
    assert "Callback cancelled by boss." in db.session.get(Ticket, callback.ticket_id).notes[-1].body


def test_cancelling_twice_says_why_it_cannot(manager):
    callback = new_callback("+32470123456")
    htmx_post(manager, f"/board/callbacks/{callback.id}/cancel")
    again = htmx_post(manager, f"/board/callbacks/{callback.id}/cancel").get_data(as_text=True)
    assert "is already cancelled; it cannot be cancelled." in again


def test_a_manager_cancels_an_offered_callback_and_its_technician_is_freed(manager):
    jan = add_technician("Jan Janssens", "+32470000001", state="offered")
    callback = new_callback("+32470123456")
    callback.status, callback.technician_id = "offered", jan.id
    db.session.add(CallbackAttempt(callback_id=callback.id, technician_id=jan.id))
    db.session.commit()
    assert 'hx-confirm="Cancel the callback' in manager.get("/board/live").get_data(as_text=True)
    assert "cancelled" in htmx_post(manager, f"/board/callbacks/{callback.id}/cancel").text
    db.session.expire_all()
    assert db.session.get(Callback, callback.id).status == "cancelled"
    assert db.session.get(Technician, jan.id).state == "available"


def test_an_action_without_the_csrf_token_changes_nothing(manager):
    callback = new_callback("+32470123456")
    assert manager.post(f"/board/callbacks/{callback.id}/cancel").status_code == 400
    db.session.expire_all()
    assert db.session.get(Callback, callback.id).status == "waiting"


def test_a_plain_form_post_goes_back_to_the_board_with_a_message(manager):
    callback = new_callback("+32470123456")
    answer = manager.post(f"/board/callbacks/{callback.id}/cancel", data={"csrf_token": manager.token})
    assert answer.status_code == 302 and answer.headers["Location"] == "/board"
    assert "cancelled" in manager.get("/board").get_data(as_text=True)


def test_a_manager_changes_a_priority_and_the_callback_keeps_its_place_in_time(manager):
    callback = new_callback("+32470123456", priority=4, minutes_ago=5)
    queued_at = callback.queued_at
    assert "now priority 1" in htmx_post(manager, f"/board/callbacks/{callback.id}/priority", priority="1").text
    db.session.expire_all()
    changed = db.session.get(Callback, callback.id)
    assert (changed.priority, changed.queued_at) == (1, queued_at)
    assert "from P4 to P1 by boss" in changed.ticket.notes[-1].body


@pytest.mark.parametrize("priority", ["0", "5", "high", ""])
def test_a_bad_priority_is_refused_with_a_message(manager, priority):
    callback = new_callback("+32470123456", priority=3)
    answer = htmx_post(manager, f"/board/callbacks/{callback.id}/priority", priority=priority)
    assert "Choose a priority from 1 (highest) to 4." in answer.text
    db.session.expire_all()
    assert db.session.get(Callback, callback.id).priority == 3


def test_an_unknown_callback_is_reported_not_crashed_on(manager):
    assert "no callback 999" in htmx_post(manager, "/board/callbacks/999/cancel").text


def test_a_manager_sets_technicians_away_and_available_which_triggers_dispatch(manager, redis):
    jan = add_technician("Jan Janssens", "+32470000001", state="available")
    assert "Jan Janssens is now away" in htmx_post(manager, f"/board/technicians/{jan.id}/state", state="away").text
    assert redis.llen("rq:queue:dispatch") == 0
    assert "is now available" in htmx_post(manager, f"/board/technicians/{jan.id}/state", state="available").text
    assert redis.llen("rq:queue:dispatch") >= 1  # a trigger (the client may resend on a slow Redis)
    db.session.expire_all()
    assert db.session.get(Technician, jan.id).state == "available"


def test_a_technician_on_a_call_cannot_be_set_away(manager):
    jan = add_technician("Jan Janssens", "+32470000001", state="on_call")
    answer = htmx_post(manager, f"/board/technicians/{jan.id}/state", state="away").text
    assert "Jan Janssens is on call; cannot go away now." in answer
    assert "Choose available" in htmx_post(manager, f"/board/technicians/{jan.id}/state", state="on_call").text


def test_the_csv_export_has_one_row_per_callback_of_the_day(manager):
    an = add_contact("=HYPERLINK(evil)", "+32470123456", company="Brouwerij De Klok")
    new_callback("+32470123456", priority=2, contact=an)
    done = new_callback("+32475987654")
    done.status, done.ended_at = "completed", utcnow()
    old = new_callback("+3238887766")
    old.status, old.queued_at, old.ended_at = "completed", utcnow() - timedelta(days=3), utcnow() - timedelta(days=3)
    db.session.commit()

    answer = manager.get("/board/export.csv")
    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [row["status"] for row in rows] == ["waiting", "completed"]
    assert rows[0]["customer"] == "'=HYPERLINK(evil)"  # a spreadsheet will not run it
    assert rows[0]["company"] == "Brouwerij De Klok" and rows[0]["phone"] == "+32470123456"
    assert rows[0]["ticket"].startswith("T") and rows[0]["priority"] == "2"


def test_the_board_page_polls_its_live_part(manager):
    page = manager.get("/board").get_data(as_text=True)
    assert 'hx-get="/board/live"' in page and "every 2s" in page
    assert "/static/htmx-2.0.11.min.js" in page


def test_figures_show_todays_csat_from_the_surveys(manager):
    assert "CSAT: no ratings yet today" in manager.get("/board/live").get_data(as_text=True)
    for rating in (5, 3):
        ticket = ticket_store().create(title="Fixed")
        db.session.add(Survey(ticket_id=ticket.id, state="sent", sent_at=utcnow(), rating=rating, rated_at=utcnow()))
    db.session.commit()
    page = manager.get("/board/live").get_data(as_text=True)
    assert 'data-figure="csat">4.0<' in page and "2 ratings · 100% answered" in page


def test_figures_count_todays_callbacks_by_outcome(manager, monkeypatch):
    # The board's clock stands at noon on the desk's day, so "20 minutes ago" is today at any hour the test runs.
    now = clock.day_start() + timedelta(hours=12)
    monkeypatch.setattr(board, "utcnow", lambda: now)
    jan = add_technician("Jan Janssens", "+32470000001")
    done = new_callback("+32470000011", priority=2, minutes_ago=20, now=now)
    done.status, done.ended_at = "completed", now
    db.session.add(
        CallbackAttempt(
            callback_id=done.id,
            technician_id=jan.id,
            status="ended",
            outcome="connected",
            ended_at=now,
            talk_seconds=120,
        )
    )
    lost = new_callback("+32470000012", now=now)
    lost.status, lost.ended_at = "unreachable", now
    gone = new_callback("+32470000013", now=now)
    gone.status, gone.ended_at = "cancelled", now
    new_callback("+32470000014", now=now)
    db.session.commit()

    page = manager.get("/board/live").get_data(as_text=True)
    for figure, value in (("queued", 4), ("completed", 1), ("unreachable", 1), ("cancelled", 1), ("waiting", 1)):
        assert f'data-figure="{figure}">{value}<' in page
    targets = page.split('id="targets"')[1].split("</table>")[0]
    p2 = targets.split('class="prio p2"')[1].split("</tr>")[0]
    # Queued 20 min ago, reached after 18 (the call ended 2 min after the customer answered).
    assert re.findall(r"<td>([^<]*)</td>", p2) == ["1", "18 min", "18 min", "30 min", "100%"]
