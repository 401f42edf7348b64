"""Random signed calls with spoofed caller IDs and keyed numbers: no way to a callback on a premium
or foreign number, nor onto another company's ticket (DESIGN §11).

The fuzzer is a stronger attacker than a real one: it signs every request, so it may also
send the URLs (``about=…``, ``callback=…``) that only the desk itself hands out.
"""

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.models import Call, Callback, CallbackStatus, Company, Contact, ContactPhone, Ticket
from app.tickets.sql import SqlTicketStore
from callbacks.limits import callback_refusal
from callbacks.queue import queue_callback

VOS_NUMBER = "+3238887766"
PROTECTED_TITLE = "Payroll server down"
SPOOFED = st.sampled_from(
    [
        "+3290312345",  # premium rate
        "+33820000000",  # shared cost
        "+447911123456",  # another country
        "+32470123456",  # a contact of another company
        "+32475111222",  # nobody
        "anonymous",
        "+266696687",
        "",
    ]
)
KEYED = st.sampled_from(
    ["090312345#", "070233444#", "0033820000000#", "00447911123456#", "080012345#", "0470998877#", "#", "12#"]
)
CALLER_PATHS = st.sampled_from(
    [
        "/voice/incoming",
        "/voice/language?try=0",
        "/voice/main-menu?try=0",
        "/voice/main-menu?try=1",
        "/voice/ticket-number?misses=0",
        "/voice/ticket-menu?try=0",
        "/voice/ticket-menu?try=1",
        "/voice/recorded",
        "/voice/urgency?try=0",
        "/voice/impact?try=0",
        "/voice/confirm-number?try=0",
        "/voice/keyed-number?try=0",
        "/voice/keyed-number?try=1",
        "/voice/open-callback?try=0",
        "/voice/closed-menu?try=0",
    ]
)


def protected_ticket() -> tuple[Ticket, Callback]:
    """Atelier Vos's ticket and its customer's waiting callback (made once per test function)."""
    ticket = db.session.scalars(select(Ticket).where(Ticket.title == PROTECTED_TITLE)).first()
    if ticket is None:
        vos = Company(name="Atelier Vos", contract="magic")
        els = Contact(name="Els Vos", company=vos, language="en")
        els.phones.append(ContactPhone(e164=VOS_NUMBER))
        klok = Contact(name="An Peeters", company=Company(name="Brouwerij De Klok", contract="wise"), language="en")
        klok.phones.append(ContactPhone(e164="+32470123456"))
        db.session.add_all([els, klok])
        db.session.commit()
        ticket = SqlTicketStore().create(
            title=PROTECTED_TITLE, priority=3, company_id=vos.id, contact_id=els.id, caller_phone=VOS_NUMBER
        )
        queue_callback(ticket, VOS_NUMBER, 3, "en")
    callback = db.session.scalars(select(Callback).where(Callback.ticket_id == ticket.id)).one()
    return ticket, callback


def step(ticket_id: int, callback_id: int, digits: str):
    keyed_ticket = db.session.get(Ticket, ticket_id).number[1:].replace(".", "") + "#"
    return st.fixed_dictionaries(
        {
            "path": CALLER_PATHS
            | st.sampled_from(
                [f"/voice/ticket-menu?about={ticket_id}&try=0", f"/voice/open-callback?callback={callback_id}&try=0"]
            ),
            "From": SPOOFED,
            "Digits": st.sampled_from(["1", "2", "3", "", keyed_ticket]) | KEYED,
        }
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_spoofed_and_keyed_numbers_never_reach_a_premium_callback_or_another_companys_ticket(provider, data):
    ticket, theirs = protected_ticket()
    calls = data.draw(
        st.lists(
            st.tuples(st.sampled_from("123"), st.lists(step(ticket.id, theirs.id, ""), max_size=10)),
            min_size=1,
            max_size=3,
        )
    )
    for sid_digit, steps in calls:
        for request in steps:
            path = request.pop("path")
            answer = provider.post(path, call_sid="CA" + sid_digit * 32, caller=request.pop("From"), **request)
            assert answer.status_code == 200 and answer.content_type.startswith("text/xml")
    db.session.expire_all()
    callbacks = db.session.scalars(select(Callback)).all()
    event("callbacks queued by the fuzzer" if len(callbacks) > 1 else "no callback queued yet")
    for callback in callbacks:
        assert callback_refusal(callback.phone) is None, callback.phone
        assert callback.ticket_id != ticket.id or callback.id == theirs.id
    assert db.session.get(Callback, theirs.id).status == CallbackStatus.WAITING  # nobody else cancelled it
    assert db.session.get(Ticket, ticket.id).priority == 3  # nor escalated it
    assert not db.session.scalars(select(Call).where(Call.ticket_id == ticket.id)).first()
