"""Urgent transfers (DESIGN §5): the one place an urgent transfer's state is written.

ringing (technicians rung) -> oncall (the on-call number rung) -> connected -> ended,
-> queued when nobody took the call (a P1 callback at the front instead), or
-> abandoned when the caller hung up on hold.

The caller waits in a provider queue of their own; each technician is rung by a call
of their own, so the first to press 1 wins — not the first phone to pick up, which is
often a voicemail. Every technician rung is claimed first (available -> offered, the
same compare-and-set as a callback offer), so nobody is offered a callback while an
urgent call rings them. Of those who press 1, the first compare-and-set on the
transfer wins; every other leg is ended through the provider's REST API at once.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from twilio.base.exceptions import TwilioRestException

from app import telephony, urls
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
from callbacks import pacing, technicians
from callbacks.queue import queue_callback

log = logging.getLogger(__name__)

#: Ring every free technician at once, or one at a time, longest idle first.
RING_ALL, RING_LONGEST_IDLE = "all", "longest_idle"
#: The on-call number's leg in URLs, where a technician's leg has its ring id.
ONCALL_LEG = "oncall"
RINGING_STAGES = (UrgentStatus.RINGING, UrgentStatus.ONCALL)


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
            call_sid=call_sid,
            ticket_id=ticket.id,
            phone=phone,
            oncall_only=oncall_only,
            status=status,
            stage_since=utcnow(),
        )
        db.session.add(transfer)
        db.session.commit()
        log.info("urgent call %s for ticket %s: putting it through (%s)", call_sid, ticket.number, status)
    return transfer


def get(transfer_id: int) -> UrgentTransfer | None:
    return db.session.get(UrgentTransfer, transfer_id)


def for_call(call_sid: str) -> UrgentTransfer | None:
    """The transfer this inbound call began, if any."""
    return db.session.scalars(select(UrgentTransfer).where(UrgentTransfer.call_sid == call_sid)).first()


def ring(transfer_id: int, ring_id: str) -> UrgentRing | None:
    """The technician's ring a leg's URL names (None for the on-call leg or a stranger's id)."""
    found = db.session.get(UrgentRing, int(ring_id)) if ring_id.isdigit() else None
    return found if found is not None and found.transfer_id == transfer_id else None


def queue_name(transfer: UrgentTransfer) -> str:
    """The provider queue the caller holds in: one per transfer, so a technician takes this caller."""
    return f"urgent-{transfer.id}"


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


def place_legs(transfer: UrgentTransfer) -> int:
    """Call every technician claimed and not rung yet, machine detection on; returns how many rang.

    A leg the provider refuses frees its technician at once.
    """
    rung = 0
    for claimed in [ring for ring in transfer.rings if ring.call_sid is None and ring.ended_at is None]:
        sid = _place(transfer, str(claimed.id), claimed.technician.phone, current_app.config["URGENT_RING_SECONDS"])
        if sid is None:
            _end_rings(transfer.id, only=claimed.id)
            continue
        _store_sid(claimed.id, sid)
        rung += 1
    db.session.commit()
    return rung


def ring_oncall(transfer: UrgentTransfer) -> bool:
    """Call the on-call number the same way; False when the provider refused (nobody to wait for)."""
    if transfer.oncall_sid is not None:
        return True
    sid = _place(transfer, ONCALL_LEG, current_app.config["ONCALL_NUMBER"], current_app.config["ONCALL_RING_SECONDS"])
    if sid is None:
        return False
    db.session.execute(
        update(UrgentTransfer)
        .where(UrgentTransfer.id == transfer.id, UrgentTransfer.oncall_sid.is_(None))
        .values(oncall_sid=sid)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(transfer)
    return True


def _place(transfer: UrgentTransfer, leg: str, number: str, timeout: int) -> str | None:
    pacing.take_turn(most_seconds=current_app.config["URGENT_PACE_SECONDS"])
    try:
        return telephony.place_call(
            to=number,
            url=urls.urgent_whisper(transfer.id, leg),
            status_callback=urls.urgent_leg_status(transfer.id, leg),
            timeout=timeout,
            detect_machine=True,
        )
    except Exception:
        log.exception("could not ring %s for urgent call %s", number, transfer.call_sid)
        return None


def _store_sid(ring_id: int, sid: str) -> None:
    """The whisper may have stored the leg's SID already: only fill it if not."""
    db.session.execute(
        update(UrgentRing)
        .where(UrgentRing.id == ring_id, UrgentRing.call_sid.is_(None))
        .values(call_sid=sid)
        .execution_options(synchronize_session=False)
    )


def leg_answered(transfer: UrgentTransfer, ring: UrgentRing | None, call_sid: str) -> bool:
    """A technician's leg picked up (a person: a machine is ``leg_over``); False when the call is gone."""
    if ring is not None:
        if ring.ended_at is not None:
            return False
        ring.call_sid = ring.call_sid or call_sid
        ring.answered_at = ring.answered_at or utcnow()
        db.session.commit()
    return transfer.status in RINGING_STAGES


def accept(transfer: UrgentTransfer, technician_id: int | None) -> bool:
    """Someone pressed 1: the first one takes the call (``None`` is the on-call number).

    The winner's leg is bridged to the caller's queue; every other leg is ended
    through the provider: one still in its whisper hears "taken by a colleague",
    one still ringing stops. A replayed press of the winner wins again.
    """
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
    ended = _end_rings(transfer.id, keep=technician_id)
    db.session.commit()
    db.session.refresh(transfer)
    log.info("urgent call %s taken by %s", transfer.call_sid, transfer.technician.name if technician_id else "on-call")
    _hang_up_legs(transfer, ended)
    progress.work_started(transfer.ticket)
    return True


def _end_rings(transfer_id: int, keep: int | None = None, only: int | None = None) -> list[UrgentRing]:
    """End the open rings of everyone but ``keep`` (or just ring ``only``): they are available again."""
    statement = select(UrgentRing).where(UrgentRing.transfer_id == transfer_id, UrgentRing.ended_at.is_(None))
    if only is not None:
        statement = statement.where(UrgentRing.id == only)
    ended = []
    for open_ring in db.session.scalars(statement).all():
        if open_ring.technician_id == keep:
            continue
        open_ring.ended_at = utcnow()
        technicians.release(open_ring.technician_id)
        ended.append(open_ring)
    return ended


def _hang_up_legs(transfer: UrgentTransfer, rings: list[UrgentRing], caller_gone: bool = False) -> None:
    """End the provider legs of ``rings`` (and the on-call leg when nobody took the call).

    A leg in its whisper is sent to "taken by a colleague" (unless the caller is
    gone); one still ringing is cancelled, which leaves it alone if it picked up
    meanwhile — its whisper then finds the ring ended and says goodbye.
    """
    legs = [(ring.call_sid, str(ring.id), ring.answered_at is not None) for ring in rings if ring.call_sid]
    if transfer.oncall_sid and not transfer.taken_by_oncall:
        legs.append((transfer.oncall_sid, ONCALL_LEG, True))
    for sid, leg, answered in legs:
        try:
            if caller_gone:
                telephony.end_call(sid)
            elif answered:
                telephony.redirect_call(sid, urls.urgent_taken(transfer.id, leg))
            else:
                telephony.cancel_call(sid)
        except TwilioRestException as error:
            log.info("urgent leg %s already over (%s)", sid, error.code)
        except Exception:
            log.exception("could not end urgent leg %s", sid)


def leg_over(transfer: UrgentTransfer, ring: UrgentRing | None, machine: bool = False) -> UrgentStatus:
    """A leg ended (or a machine answered it): free its technician and see what comes next.

    When it was the last open leg of the current round, the next round starts at
    once; a late report about an earlier round only frees its technician. The
    caller's wait document moves a round on whose reports never came.
    """
    if ring is None:
        return (
            nobody_took_it(transfer, UrgentStatus.ONCALL)
            if transfer.status == UrgentStatus.ONCALL
            else advance(transfer)
        )
    if ring.technician_id != transfer.technician_id:
        _end_rings(transfer.id, only=ring.id)
        db.session.commit()
        if machine:
            log.info("urgent leg of %s answered by a machine", ring.technician.name)
    db.session.refresh(transfer)
    this_round = transfer.stage_since is None or ring.started_at >= transfer.stage_since
    return advance(transfer, every_leg_ended=this_round)


def advance(transfer: UrgentTransfer, every_leg_ended: bool = False) -> UrgentStatus:
    """Move a round of ringing on when it is over: its ring time passed, or (told by a leg) every leg ended."""
    db.session.refresh(transfer)
    stage = transfer.status
    if stage not in RINGING_STAGES:
        return UrgentStatus(stage)
    seconds = current_app.config["URGENT_RING_SECONDS" if stage == UrgentStatus.RINGING else "ONCALL_RING_SECONDS"]
    over = transfer.stage_since is None or utcnow() - transfer.stage_since >= timedelta(seconds=seconds)
    if every_leg_ended and stage == UrgentStatus.RINGING:
        over = over or not [ring for ring in transfer.rings if ring.ended_at is None]
    return nobody_took_it(transfer, stage) if over else UrgentStatus(stage)


def _claim_round(transfer: UrgentTransfer, stage: str) -> bool:
    """Of two requests that find the same round over (two legs' reports, the wait document), one moves it on."""
    since = UrgentTransfer.stage_since
    same_round = since.is_(None) if transfer.stage_since is None else since == transfer.stage_since
    statement = (
        update(UrgentTransfer)
        .where(UrgentTransfer.id == transfer.id, UrgentTransfer.status == stage, same_round)
        .values(stage_since=utcnow())
        .execution_options(synchronize_session=False)
    )
    won = db.session.execute(statement).rowcount == 1
    db.session.commit()
    db.session.refresh(transfer)
    return won


def nobody_took_it(transfer: UrgentTransfer, stage: str, caller_on_hold: bool = True) -> UrgentStatus:
    """A round of ringing (``stage``: ringing or oncall) ended unanswered; returns what comes next.

    Those still rung are released and their legs ended. Next is another technician
    (one at a time, longest idle first), the on-call number, or the callback queue.
    A replayed report of a round already over changes nothing. A caller on hold is
    taken off it when the queue is next (not one still in the step that rings the
    first round: that step answers for itself).
    """
    if transfer.status != stage or not _claim_round(transfer, stage):
        return UrgentStatus(transfer.status)
    ended = _end_rings(transfer.id)
    db.session.commit()
    _hang_up_legs(transfer, ended)
    if stage == UrgentStatus.RINGING:
        one_by_one = current_app.config["URGENT_RING_MODE"] == RING_LONGEST_IDLE
        if one_by_one and ring_technicians(transfer):
            if place_legs(transfer):
                return UrgentStatus.RINGING
            return nobody_took_it(transfer, stage, caller_on_hold)
        if current_app.config["ONCALL_NUMBER"] and _move(
            transfer, UrgentStatus.RINGING, UrgentStatus.ONCALL, stage_since=utcnow()
        ):
            if ring_oncall(transfer):
                return UrgentStatus.ONCALL
            return nobody_took_it(transfer, UrgentStatus.ONCALL, caller_on_hold)
    if _move(transfer, stage, UrgentStatus.QUEUED, ended_at=utcnow()):
        rung = "the technicians" if stage == UrgentStatus.RINGING else "the on-call number"
        ticket_store().add_note(transfer.ticket, f"Urgent call not put through live: {rung} did not answer.")
        _hang_up_legs(transfer, [])
        if caller_on_hold:
            _take_caller_off_hold(transfer)
        log.info("urgent call %s: nobody took it, a P1 callback instead", transfer.call_sid)
    return UrgentStatus(transfer.status)


def _take_caller_off_hold(transfer: UrgentTransfer) -> None:
    """Send the caller on hold to "nobody is free" at once (REST ``Url`` update).

    Their wait document answers <Leave> as well, so a failed update only costs
    the rest of one pass of it.
    """
    try:
        telephony.redirect_call(transfer.call_sid, urls.urgent_nobody_free(transfer.id))
    except TwilioRestException as error:
        log.info("urgent caller %s no longer on hold (%s)", transfer.call_sid, error.code)
    except Exception:
        log.exception("could not take urgent caller %s off hold", transfer.call_sid)


def _move(transfer: UrgentTransfer, expected, new: UrgentStatus, **values) -> bool:
    moved = compare_and_set(UrgentTransfer.status, transfer.id, expected, status=new, **values)
    db.session.commit()
    db.session.refresh(transfer)
    return moved


def give_up(transfer: UrgentTransfer) -> bool:
    """The caller left the queue before anyone took the call: no more ringing, a P1 callback instead."""
    db.session.refresh(transfer)
    if transfer.status not in RINGING_STAGES:
        return False
    ended = _end_rings(transfer.id)
    db.session.commit()
    if not _move(transfer, RINGING_STAGES, UrgentStatus.QUEUED, ended_at=utcnow()):
        return False
    _hang_up_legs(transfer, ended)
    ticket_store().add_note(transfer.ticket, "Urgent call not put through live: the caller left the hold queue.")
    return True


def caller_hung_up(transfer: UrgentTransfer) -> bool:
    """The caller hung up on hold: every leg is ended, nobody stays rung, no callback is opened."""
    if not _move(transfer, RINGING_STAGES, UrgentStatus.ABANDONED, ended_at=utcnow()):
        return False
    ended = _end_rings(transfer.id)
    db.session.commit()
    _hang_up_legs(transfer, ended, caller_gone=True)
    ticket_store().add_note(transfer.ticket, "Urgent call: the caller hung up while on hold.")
    log.info("urgent call %s: the caller hung up on hold", transfer.call_sid)
    return True


def taker_call_sid(transfer: UrgentTransfer) -> str | None:
    """The call of whoever took the urgent call: the winning technician's leg, or the on-call leg."""
    if transfer.taken_by_oncall:
        return transfer.oncall_sid
    winner = next((ring for ring in transfer.rings if ring.technician_id == transfer.technician_id), None)
    return winner.call_sid if winner is not None else None


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
    """The reconciler's sweep: transfers whose webhooks never came are moved on.

    Still ringing long after every ring timeout: the caller is queued as P1 (the
    promise the caller would have heard) and the rung technicians are freed.
    Connected with no news for ``STALE_CALL_SECONDS``: the call is taken as over.
    """
    config = current_app.config
    ring_bound = utcnow() - timedelta(seconds=config["URGENT_RING_SECONDS"] + config["ONCALL_RING_SECONDS"] + 60)
    call_bound = utcnow() - timedelta(seconds=config["STALE_CALL_SECONDS"])
    stale = db.session.scalars(
        select(UrgentTransfer).where(
            (UrgentTransfer.status.in_(RINGING_STAGES) & (UrgentTransfer.started_at < ring_bound))
            | ((UrgentTransfer.status == UrgentStatus.CONNECTED) & (UrgentTransfer.connected_at < call_bound))
        )
    ).all()
    moved = 0
    for transfer in stale:
        if transfer.status == UrgentStatus.CONNECTED:
            moved += call_over(transfer, None)
            continue
        ended = _end_rings(transfer.id)
        if _move(transfer, RINGING_STAGES, UrgentStatus.QUEUED, ended_at=utcnow()):
            moved += 1
            _hang_up_legs(transfer, ended)
            _take_caller_off_hold(transfer)
            if transfer.phone:
                queue_callback(transfer.ticket, transfer.phone, 1, config["DEFAULT_LANGUAGE"])
    return moved
