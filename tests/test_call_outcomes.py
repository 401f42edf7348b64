"""How far each inbound call got with the IVR, and the board's count of abandoned calls.

Whole calls through the emulator (its status callback ends each call); a call
that ends with no outcome was abandoned in the menu.
"""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Call, CallOutcome
from app.tickets.sql import SqlTicketStore
from app.web.figures import day_figures
from callbacks.queue import queue_callback
from emulator import APP_ERROR_MESSAGE, Phone
from tests.helpers import add_contact, add_technician, add_user, log_in, run_jobs

CALLER = "+32470123456"


def call_desk(desk, keys: list[str], caller: str = CALLER, hang_up: bool = False) -> Call:
    """Place a call that ends once its keys run out (hang_up: at the next question) and return its row."""
    placed = desk.emulator.place_inbound_call(from_=caller, keys=keys, hangup_when_done=hang_up)
    desk.emulator.wait_idle(timeout=15)
    assert placed.errors == [] and APP_ERROR_MESSAGE not in placed.heard
    db.session.expire_all()
    call = db.session.scalars(select(Call).where(Call.sid == placed.sid)).one()
    assert call.ended_at is not None  # the provider's status callback came
    return call


@pytest.mark.parametrize(
    "keys",
    [
        [],  # hangs up at the language menu
        ["3"],  # at the main menu
        ["3", "2"],  # during the description
        ["3", "2", "#", "2"],  # before saying who is affected
    ],
)
def test_a_caller_who_hangs_up_in_the_menu_is_counted_as_abandoned(desk, keys):
    call = call_desk(desk, keys, hang_up=True)
    assert call.outcome is None
    figures = day_figures()
    assert (figures["abandoned"], figures["calls_ended"]) == (1, 1)


def test_a_callback_queued_is_not_abandoned_even_if_the_caller_hangs_up_before_goodbye(desk):
    call = call_desk(desk, ["3", "2", "#", "1", "1", "1"], hang_up=True)
    assert (call.outcome, call.callback_id is not None) == (CallOutcome.QUEUED, True)
    assert (day_figures()["abandoned"], day_figures()["calls_ended"]) == (0, 1)


def test_hanging_up_while_confirming_the_number_leaves_the_ticket_but_is_abandoned(desk):
    """The ticket is open, but the caller left before a callback was agreed: the desk should know."""
    call = call_desk(desk, ["3", "2", "#", "1", "1"], hang_up=True)
    assert call.ticket is not None and call.callback_id is None and call.outcome is None
    assert day_figures()["abandoned"] == 1


def test_a_ticket_read_back_is_an_answer(desk):
    ticket = SqlTicketStore().create(title="VPN", priority=4)
    call = call_desk(desk, ["3", "1", ticket.number[1:].replace(".", "") + "#"], hang_up=True)
    assert call.outcome == CallOutcome.TICKET_READ
    assert day_figures()["abandoned"] == 0


def test_a_caller_in_the_queue_who_keeps_or_cancels_their_place_is_not_abandoned(desk):
    add_contact("An Peeters", CALLER).language = "en"
    db.session.commit()
    queue_callback(SqlTicketStore().create(title="earlier", priority=3), CALLER, 3, "en")
    assert call_desk(desk, ["1"]).outcome == CallOutcome.KEPT_PLACE
    assert call_desk(desk, ["2"]).outcome == CallOutcome.CANCELLED_CALLBACK
    assert day_figures()["abandoned"] == 0


def test_an_urgent_call_put_through_is_not_abandoned(desk):
    add_technician("Jan", "+32470000001", languages="en")
    desk.emulator.set_phone("+32470000001", Phone(answer="answer", keys=["1"], talk_seconds=1))
    call = call_desk(desk, ["3", "2", "#", "2", "3"])
    assert call.outcome == CallOutcome.PUT_THROUGH
    assert day_figures()["abandoned"] == 0


def test_an_urgent_call_nobody_took_ends_in_the_queue(desk):
    call = call_desk(desk, ["3", "2", "#", "2", "3", "#"])
    assert call.outcome == CallOutcome.QUEUED and call.callback_id is not None


def test_a_caller_without_a_number_leaves_a_ticket(desk):
    call = call_desk(desk, ["3", "2", "#", "1", "1", "12#", "34#"], caller="anonymous")
    assert call.outcome == CallOutcome.NO_NUMBER and call.ticket is not None


def test_a_call_rescued_by_the_safe_path_is_not_abandoned(provider, app):
    sid = "CA" + "7" * 32
    provider.post("/voice/incoming", sid)
    provider.post("/voice/fallback", sid, ErrorCode="11200", ErrorUrl="http://desk.test/voice/main-menu")
    run_jobs(app)  # the promise is taken: a ticket and a callback for the call
    provider.post("/voice/status", sid, CallStatus="completed", CallDuration="40")
    db.session.expire_all()
    call = db.session.scalars(select(Call)).one()
    assert (call.outcome, call.ended_at is not None) == (CallOutcome.RESCUED, True)
    assert day_figures()["abandoned"] == 0


def test_the_board_shows_abandoned_calls_and_their_share(desk):
    call_desk(desk, [], hang_up=True)
    call_desk(desk, ["3", "2", "#", "1", "1", "1"], caller="+32475000002")
    call_desk(desk, ["3"], caller="+32475000003", hang_up=True)
    call_desk(desk, ["3", "2", "#", "1", "1", "1"], caller="+32475000004")
    client = desk.app.test_client()
    add_user("boss")
    log_in(client, "boss")
    page = client.get("/board/live").get_data(as_text=True)
    assert 'data-figure="abandoned">2<' in page
    assert "50% of 4 calls" in page
