"""Urgent transfers (DESIGN §5): the one place an urgent transfer's state is written.

ringing (technicians rung) -> oncall (the on-call number rung) -> connected -> ended,
or -> queued when nobody took the call (a P1 callback at the front instead).

Every technician rung is claimed first (available -> offered, the same
compare-and-set as a callback offer), so nobody is offered a callback while an
urgent call rings them. Of those who press 1, the first compare-and-set on the
transfer wins; the others are released at once.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.clock import utcnow
from app.extensions import db
from app.models import (
    OPEN_URGENT_STATUSES,
    Technician,
    TechnicianState,
    Ticket,
    UrgentRing,
    UrgentStatus,
    UrgentTransfer,
)
from app.sql import compare_and_set
from app.tickets import progress, ticket_store
from callbacks import technicians
from callbacks.queue import queue_callback

log = logging.getLogger(__name__)

#: Ring every free technician at once, or one at a time, longest idle first.
RING_ALL, RING_LONGEST_IDLE = "all", "longest_idle"


def start(call_sid: str, ticket: Ticket, phone: str | None, oncall_only: bool) -> UrgentTransfer:
    """The transfer of this call, opened once (a replayed webhook finds the same one).

    Out of hours (``oncall_only``) it starts at the on-call number, or straight in
    the queue when there is none.
    """
    transfer = db.session.scalars(select(UrgentTransfer).where(UrgentTransfer.call_sid == call_sid)).first()
    if transfer is None:
        status = UrgentStatus.RINGING
        if oncall_only:
            status = UrgentStatus.ONCALL if current_app.config["ONCALL_NUMBER"] else UrgentStatus.QUEUED
        transfer = UrgentTransfer(
            call_sid=call_sid, ticket_id=ticket.id, phone=phone, oncall_only=oncall_only, status=status
        )
        db.session.add(transfer)
        db.session.commit()
        log.info("urgent call %s for ticket %s: putting it through (%s)", call_sid, ticket.number, status)
    return transfer


def get(transfer_id: int) -> UrgentTransfer | None:
    return db.session.get(UrgentTransfer, transfer_id)


def ring_technicians(transfer: UrgentTransfer) -> list[Technician]:
    """Claim the technicians to ring next: every free one, or the longest idle one not rung yet."""
    if transfer.oncall_only or transfer.status != UrgentStatus.RINGING:
        return []
    already = {ring.technician_id for ring in transfer.rings}
    candidates = db.session.scalars(
        select(Technician)
        .where(Technician.state == TechnicianState.AVAILABLE, Technician.id.not_in(already or {0}))
        .order_by(Technician.state_since, Technician.id)
    ).all()
    if current_app.config["URGENT_RING_MODE"] == RING_LONGEST_IDLE:
        candidates = candidates[:1]
    claimed = []
    for technician in candidates:
        if technicians.offer(technician.id):
            db.session.add(UrgentRing(transfer_id=transfer.id, technician_id=technician.id))
            claimed.append(technician)
    db.session.commit()
    return claimed


def accept(transfer: UrgentTransfer, technician_id: int | None) -> bool:
    """Someone pressed 1: the first one takes the call (``None`` is the on-call number)."""
    expected = UrgentStatus.ONCALL if technician_id is None else UrgentStatus.RINGING
    won = compare_and_set(
        UrgentTransfer.status,
        transfer.id,
        expected,
        status=UrgentStatus.CONNECTED,
        technician_id=technician_id,
        taken_by_oncall=technician_id is None,
        connected_at=utcnow(),
    )
    if not won:
        db.session.rollback()
        db.session.refresh(transfer)
        return transfer.status == UrgentStatus.CONNECTED and transfer.technician_id == technician_id
    if technician_id is not None:
        technicians.accept(technician_id)
    _release_rung(transfer.id, keep=technician_id)
    db.session.commit()
    progress.work_started(transfer.ticket)
    return True


def _release_rung(transfer_id: int, keep: int | None = None) -> None:
    """End the rings of everyone but ``keep``: they are available again."""
    open_rings = db.session.scalars(
        select(UrgentRing).where(UrgentRing.transfer_id == transfer_id, UrgentRing.ended_at.is_(None))
    ).all()
    for ring in open_rings:
        if ring.technician_id == keep:
            continue
        ring.ended_at = utcnow()
        technicians.release(ring.technician_id)


def nobody_took_it(transfer: UrgentTransfer, stage: str) -> UrgentStatus:
    """A round of ringing (``stage``: ringing or oncall) ended unanswered; returns what comes next.

    Those rung are released. Next is another technician (one at a time, longest
    idle first), the on-call number, or the callback queue. A replayed report of
    a round already over changes nothing.
    """
    if transfer.status != stage:
        return UrgentStatus(transfer.status)
    _release_rung(transfer.id)
    db.session.commit()
    if stage == UrgentStatus.RINGING:
        one_by_one = current_app.config["URGENT_RING_MODE"] == RING_LONGEST_IDLE
        if one_by_one and _someone_else_free(transfer):
            return UrgentStatus.RINGING
        if current_app.config["ONCALL_NUMBER"] and _move(transfer, UrgentStatus.RINGING, UrgentStatus.ONCALL):
            return UrgentStatus.ONCALL
    if _move(transfer, stage, UrgentStatus.QUEUED, ended_at=utcnow()):
        rung = "the technicians" if stage == UrgentStatus.RINGING else "the on-call number"
        ticket_store().add_note(transfer.ticket, f"Urgent call not put through live: {rung} did not answer.")
    return UrgentStatus(transfer.status)


def _someone_else_free(transfer: UrgentTransfer) -> bool:
    rung = [ring.technician_id for ring in transfer.rings] or [0]
    return (
        db.session.scalar(
            select(Technician.id)
            .where(Technician.state == TechnicianState.AVAILABLE, Technician.id.not_in(rung))
            .limit(1)
        )
        is not None
    )


def _move(transfer: UrgentTransfer, expected, new: UrgentStatus, **values) -> bool:
    moved = compare_and_set(UrgentTransfer.status, transfer.id, expected, status=new, **values)
    db.session.commit()
    db.session.refresh(transfer)
    return moved


def call_over(transfer: UrgentTransfer, talk_seconds: int | None) -> bool:
    """The connected urgent call ended: the technician goes to wrap-up, the ticket gets a note."""
    if not _move(transfer, UrgentStatus.CONNECTED, UrgentStatus.ENDED, ended_at=utcnow()):
        return False
    if transfer.technician_id is not None:
        technicians.start_wrap_up(transfer.technician_id)
    db.session.execute(
        update(UrgentRing)
        .where(UrgentRing.transfer_id == transfer.id, UrgentRing.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    who = transfer.technician.name if transfer.technician else "the on-call number"
    ticket_store().add_note(transfer.ticket, f"Urgent call put through live to {who} ({talk_seconds or 0} s).")
    return True


def in_progress() -> list[UrgentTransfer]:
    """Urgent calls ringing or connected right now (for the queue view and the board)."""
    return list(
        db.session.scalars(
            select(UrgentTransfer).where(UrgentTransfer.status.in_(OPEN_URGENT_STATUSES)).order_by(UrgentTransfer.id)
        )
    )


def expire_stale() -> int:
    """The reconciler's sweep: transfers whose Dial action never came are moved on.

    Still ringing long after every ring timeout: the caller is queued as P1 (the
    promise the caller would have heard) and the rung technicians are freed.
    Connected with no news for ``STALE_CALL_SECONDS``: the call is taken as over.
    """
    config = current_app.config
    ring_bound = utcnow() - timedelta(seconds=config["URGENT_RING_SECONDS"] + config["ONCALL_RING_SECONDS"] + 60)
    call_bound = utcnow() - timedelta(seconds=config["STALE_CALL_SECONDS"])
    stale = db.session.scalars(
        select(UrgentTransfer).where(
            (
                UrgentTransfer.status.in_((UrgentStatus.RINGING, UrgentStatus.ONCALL))
                & (UrgentTransfer.started_at < ring_bound)
            )
            | ((UrgentTransfer.status == UrgentStatus.CONNECTED) & (UrgentTransfer.connected_at < call_bound))
        )
    ).all()
    moved = 0
    for transfer in stale:
        if transfer.status == UrgentStatus.CONNECTED:
            moved += call_over(transfer, None)
            continue
        _release_rung(transfer.id)
        if _move(transfer, (UrgentStatus.RINGING, UrgentStatus.ONCALL), UrgentStatus.QUEUED, ended_at=utcnow()):
            moved += 1
            if transfer.phone:
                queue_callback(transfer.ticket, transfer.phone, 1, config["DEFAULT_LANGUAGE"])
    return moved
