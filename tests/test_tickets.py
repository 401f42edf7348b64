import re
import threading
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Ticket
from app.tickets.sql import SqlTicketStore, next_ticket_number


def test_numbers_follow_the_brussels_date_and_a_daily_counter(app):
    # 23:30 UTC on 26 November is already 27 November in Brussels.
    first = next_ticket_number(datetime(2026, 11, 26, 23, 30))
    second = next_ticket_number(datetime(2026, 11, 27, 9, 0))
    next_day = next_ticket_number(datetime(2026, 11, 28, 9, 0))
    assert (first, second, next_day) == ("T20261127.0001", "T20261127.0002", "T20261128.0001")


def test_create_find_note_and_close(app):
    store = SqlTicketStore()
    ticket = store.create(title="Printer offline", priority=4)
    assert re.fullmatch(r"T\d{8}\.\d{4}", ticket.number)
    assert store.find(ticket.number).id == ticket.id
    assert store.find("T20000101.9999") is None
    store.add_note(ticket, "Called back")
    store.close(ticket)
    assert [note.body for note in ticket.notes] == ["Called back"]
    assert ticket.status == "closed" and ticket.closed_at is not None


def test_a_second_create_for_the_same_call_returns_the_first_ticket(app):
    store = SqlTicketStore()
    first = store.create(origin_call_sid="CA1", title="A", priority=3)
    again = store.create(origin_call_sid="CA1", title="B", priority=1)
    assert again.id == first.id
    assert db.session.scalar(select(db.func.count()).select_from(Ticket)) == 1


def test_concurrent_creation_never_hands_out_a_number_twice(app):
    numbers: list[str] = []
    errors: list[BaseException] = []

    def create_some() -> None:
        with app.app_context():
            try:
                for _ in range(10):
                    numbers.append(SqlTicketStore().create(title="storm", priority=3).number)
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=create_some) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert len(numbers) == 60
    assert len(set(numbers)) == 60
    counters = sorted(int(number.split(".")[1]) for number in numbers)
    assert counters == list(range(1, 61))
