"""The desk's records. All state that matters lives here, never only in Redis.

Timestamps are naive UTC (``app.clock.utcnow()``) so SQLite and PostgreSQL compare
them the same way; the desk's own time (app/clock.py) is only used for display and
"today".
"""

from datetime import date, datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, false, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db


class Contract(StrEnum):
    NONE = "none"
    BASIC = "basic"
    WISE = "wise"
    MAGIC = "magic"


class CallbackStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


#: ``Callback.cancelled_by`` of a callback its caller cancelled (by phone or on their callback page).
CANCELLED_BY_CALLER = "caller"

OPEN_CALLBACK_STATUSES = (CallbackStatus.WAITING, CallbackStatus.OFFERED, CallbackStatus.IN_PROGRESS)


class CallOutcome(StrEnum):
    """How far an inbound call got with the IVR; a later step overwrites an earlier one.

    A call that ended with no outcome was abandoned: the caller hung up before the
    desk knew what to do for them (the board counts these).
    """

    #: The caller keyed a ticket number and heard its status.
    TICKET_READ = "ticket_read"
    #: A ticket was opened, but no callback number could be had.
    NO_NUMBER = "no_number"
    #: A callback was queued (or the caller's open one kept) and its place announced.
    QUEUED = "queued"
    #: An urgent call is being put through to a technician or the on-call number.
    PUT_THROUGH = "put_through"
    #: A caller already in the queue chose to keep their place.
    KEPT_PLACE = "kept_place"
    #: A caller already in the queue cancelled their callback.
    CANCELLED_CALLBACK = "cancelled_callback"
    #: A step failed and the safe path promised a callback (set when the promise is taken).
    RESCUED = "rescued"
    #: The caller joined an open incident: kept informed by SMS, no callback.
    JOINED_INCIDENT = "joined_incident"
    #: The caller offered only numbers the desk does not call back (premium-rate, another country…).
    REFUSED_NUMBER = "refused_number"
    #: The number had opened its share of tickets for the hour (``CALLS_PER_HOUR``): refused politely.
    LIMITED = "limited"


class TechnicianState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    OFFERED = "offered"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    AWAY = "away"


#: States in which a technician is at work today (whether free or busy).
AT_WORK = (TechnicianState.AVAILABLE, TechnicianState.OFFERED, TechnicianState.ON_CALL, TechnicianState.WRAP_UP)


class AttemptStatus(StrEnum):
    """Where one try at a callback stands; the outcome says how it ended."""

    RINGING_TECHNICIAN = "ringing_technician"
    DIALING_CUSTOMER = "dialing_customer"
    ENDED = "ended"


class AttemptOutcome(StrEnum):
    """How one attempt at a callback ended (``CallbackAttempt.outcome``); not to be confused with
    ``CallOutcome``, how far an inbound call got with the IVR."""

    CONNECTED = "connected"
    # The customer's voicemail (or nobody) answered: the technician's 2, or machine detection.
    VOICEMAIL = "voicemail"
    # The number reached someone else: the callback ends unreachable, flagged for the managers.
    WRONG_NUMBER = "wrong_number"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    TECHNICIAN_MISSED = "technician_missed"
    TECHNICIAN_SKIPPED = "technician_skipped"
    # The callback was cancelled while its technician was being rung.
    CANCELLED = "cancelled"
    # The technician's phone never rang: the provider refused the call, or the dispatcher died after the claim.
    NOT_RUNG = "not_rung"


class Company(db.Model):
    """A customer of the desk, with its contract (one at a time) and its switchboard numbers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    contract: Mapped[str] = mapped_column(String(10), default=Contract.NONE)
    # The contract's first and last day (Brussels dates); open-ended when empty.
    contract_starts: Mapped[date | None]
    contract_ends: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Autotask's id of the company when it is synchronised from there.
    autotask_id: Mapped[int | None] = mapped_column(unique=True)

    contacts: Mapped[list["Contact"]] = relationship(back_populates="company")
    phones: Mapped[list["CompanyPhone"]] = relationship(back_populates="company", cascade="all, delete-orphan")


class CompanyPhone(db.Model):
    """One E.164 number of a company's switchboard."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    e164: Mapped[str] = mapped_column(String(20), unique=True)

    company: Mapped[Company] = relationship(back_populates="phones")


class Contact(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str | None] = mapped_column(String(2))
    # A deactivated contact is kept for its tickets' sake but no longer known on the phone.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    autotask_id: Mapped[int | None] = mapped_column(unique=True)

    company: Mapped[Company | None] = relationship(back_populates="contacts")
    phones: Mapped[list["ContactPhone"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="ContactPhone.id"
    )


class ContactPhone(db.Model):
    """One E.164 number of a contact; a number belongs to one contact only."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    e164: Mapped[str] = mapped_column(String(20), unique=True)

    contact: Mapped[Contact] = relationship(back_populates="phones")


class TicketStatus(StrEnum):
    """Where a ticket stands (DESIGN §6); Autotask's statuses are mapped to these by label."""

    NEW = "new"
    #: A callback reached the customer, or an urgent call was put through.
    IN_PROGRESS = "in_progress"
    #: The customer could not be reached on the last attempt.
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    #: Completed: resolved from the console, or completed in Autotask.
    CLOSED = "closed"


class TicketCounter(db.Model):
    """The last ticket number handed out on one (Brussels) day."""

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Ticket(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    recording_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default=TicketStatus.NEW)
    priority: Mapped[int] = mapped_column(default=4)
    urgency: Mapped[str | None] = mapped_column(String(20))
    impact: Mapped[str | None] = mapped_column(String(20))
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"))
    # The inbound call that opened it: a replayed webhook finds it instead of opening another.
    origin_call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Indexed for the reports (tickets per day).
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    closed_at: Mapped[datetime | None]
    # The incident ticket this ticket is one report of (an outage: one parent, many callers).
    problem_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    # Opened for a caller who asked about this other ticket but is not one of its people (DESIGN §11).
    related_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))

    contact: Mapped[Contact | None] = relationship()
    company: Mapped[Company | None] = relationship()
    related_ticket: Mapped["Ticket | None"] = relationship(remote_side=[id], foreign_keys=[related_ticket_id])
    notes: Mapped[list["TicketNote"]] = relationship(back_populates="ticket", order_by="TicketNote.id")

    @property
    def customer_company(self) -> Company | None:
        """The company the ticket is for: its own, else its contact's."""
        return self.company or (self.contact.company if self.contact is not None else None)


class TicketNote(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="notes")


class Technician(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    # Comma-separated language codes, e.g. "nl,en".
    languages: Mapped[str] = mapped_column(String(20), default="nl")
    state: Mapped[str] = mapped_column(String(10), default=TechnicianState.OFFLINE, index=True)
    state_since: Mapped[datetime] = mapped_column(default=utcnow)
    wrap_up_until: Mapped[datetime | None]
    missed_offers: Mapped[int] = mapped_column(default=0)
    # A technician who left the desk: kept for the history, offline, and never offered a callback.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())


class Call(db.Model):
    """An inbound call and what the caller has told the IVR so far."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_raw: Mapped[str] = mapped_column(String(64), default="")
    # None when the caller ID is withheld or not a callable number.
    from_e164: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20), default="in-progress")
    # Indexed for the reports (calls per day, the hour-by-weekday heat map).
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Indexed for the board's figures (calls that ended today).
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    duration_seconds: Mapped[int | None]
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    recording_url: Mapped[str | None] = mapped_column(String(500))
    urgency: Mapped[str | None] = mapped_column(String(20))
    impact: Mapped[str | None] = mapped_column(String(20))
    # What the provider transcribed of the problem description (English only).
    transcript: Mapped[str | None] = mapped_column(Text)
    # Out of hours, the caller chose the urgent line (Magic contracts).
    urgent_line: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The number the caller is about to confirm for the callback.
    callback_phone: Mapped[str | None] = mapped_column(String(20))
    # How far the IVR got (CallOutcome); None while it is going on, and for an abandoned call.
    outcome: Mapped[str | None] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callback.id"))

    contact: Mapped[Contact | None] = relationship()
    ticket: Mapped[Ticket | None] = relationship()


class Callback(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    phone: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    priority: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default=CallbackStatus.WAITING)
    # The place in the queue: set once, kept by retries.
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A retry waits until then; it keeps its place but is not offered before.
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technician.id"))
    status_since: Mapped[datetime] = mapped_column(default=utcnow)
    # Indexed for the reports (callbacks that ended in a range).
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    # When an unreachable customer was told so (SMS or mail); None while that is still to do.
    notice_sent_at: Mapped[datetime | None]
    # A window the caller chose (DESIGN §3.9): not offered before it opens, first of its priority once open.
    scheduled_for: Mapped[datetime | None]
    window_ends_at: Mapped[datetime | None]
    # Times the caller moved it to another window (their callback page).
    moves: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Who cancelled it, when it was cancelled: "caller" when the caller did (by phone or on their page).
    cancelled_by: Mapped[str | None] = mapped_column(String(10))
    # A technician reached someone else on this number: the managers see it on the board.
    wrong_number: Mapped[bool] = mapped_column(default=False, server_default=false())

    ticket: Mapped[Ticket] = relationship()
    technician: Mapped[Technician | None] = relationship()

    __table_args__ = (
        Index("ix_callback_queue", "status", "priority", "queued_at", "id"),
        # The reports count callbacks by the day they joined the queue.
        Index("ix_callback_queued_at", "queued_at"),
        # One caller, one open callback: the database refuses a second one.
        Index(
            "uq_callback_open_phone",
            "phone",
            unique=True,
            sqlite_where=text("status IN ('waiting', 'offered', 'in_progress')"),
            postgresql_where=text("status IN ('waiting', 'offered', 'in_progress')"),
        ),
    )


class CallbackAttempt(db.Model):
    """One offer of a callback to a technician, and the customer call if it came to that."""

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callback.id"), index=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technician.id"))
    status: Mapped[str] = mapped_column(String(20), default=AttemptStatus.RINGING_TECHNICIAN, index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    technician_call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_call_sid: Mapped[str | None] = mapped_column(String(64))
    # Both indexed for the reports (offers per technician, attempts per day).
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    talk_seconds: Mapped[int | None]
    # What the provider's answering-machine detection found on the customer's leg (human, machine_start, …).
    answered_by: Mapped[str | None] = mapped_column(String(20))

    callback: Mapped[Callback] = relationship()
    technician: Mapped[Technician] = relationship()

    __table_args__ = (
        # Never two technicians on one callback, never one technician on two: the claim's
        # compare-and-set guarantees it, and the database refuses it as well.
        Index(
            "uq_attempt_open_callback",
            "callback_id",
            unique=True,
            sqlite_where=text("status != 'ended'"),
            postgresql_where=text("status != 'ended'"),
        ),
        Index(
            "uq_attempt_open_technician",
            "technician_id",
            unique=True,
            sqlite_where=text("status != 'ended'"),
            postgresql_where=text("status != 'ended'"),
        ),
    )


class SyncState(StrEnum):
    """How far a ticket mirrored in Autotask is pushed."""

    PENDING = "pending"
    SYNCED = "synced"


class AutotaskTicket(db.Model):
    """The Autotask ticket a local ticket mirrors (``TICKET_STORE=autotask``), and what is left to push."""

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    # Autotask's id of the ticket; None until a create is confirmed.
    autotask_id: Mapped[int | None] = mapped_column(unique=True)
    # Sent as the ticket's externalID: a create whose answer was lost is found by it, never sent twice.
    reference: Mapped[str] = mapped_column(String(50), unique=True)
    # The number a caller heard while Autotask was unreachable; it still finds the ticket afterwards.
    provisional_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    autotask_company_id: Mapped[int | None]
    autotask_contact_id: Mapped[int | None]
    sync_state: Mapped[str] = mapped_column(String(10), default=SyncState.PENDING, index=True)
    # The local status and priority Autotask last accepted.
    pushed_status: Mapped[str | None] = mapped_column(String(20))
    pushed_priority: Mapped[int | None]
    # What Autotask last accepted of the ticket's place in an incident: "problem" (the incident's own
    # ticket) or "incident:<Autotask id of the problem>" (a caller's ticket linked to it).
    pushed_type: Mapped[str | None] = mapped_column(String(30))
    # The title and description Autotask last accepted (a transcript often comes after the create).
    pushed_title: Mapped[str | None] = mapped_column(String(255))
    pushed_description: Mapped[str | None] = mapped_column(Text)
    # Bumped by every local change to push; a sync marks the ticket synced only if it did not move.
    changes: Mapped[int] = mapped_column(default=0)
    # A sync holds the ticket until then (compare-and-set); a failed sync waits until then.
    lease_until: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))

    ticket: Mapped[Ticket] = relationship()


class AutotaskNote(db.Model):
    """A ticket note Autotask has; a note of a mirrored ticket without one is still to push."""

    note_id: Mapped[int] = mapped_column(ForeignKey("ticket_note.id"), primary_key=True)
    autotask_id: Mapped[int]


class AutotaskPhone(db.Model):
    """A phone number of an Autotask contact or company, normalised to E.164.

    Autotask keeps phone numbers as free text; this index lets a caller ID find them.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(20), index=True)
    autotask_company_id: Mapped[int]
    # None for a company's own number (switchboard, fax).
    autotask_contact_id: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(200), default="")


class AutotaskContract(db.Model):
    """A contract read from Autotask: its company's contract kind is the best one in force."""

    autotask_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    autotask_company_id: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(10), default=Contract.NONE)
    starts: Mapped[date | None]
    ends: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)


class DirectorySync(db.Model):
    """How far the directory's sync from Autotask got, per entity, so an interrupted run resumes."""

    entity: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Autotask's timestamp at the start of the last complete pass: the next one reads changes since then.
    since: Mapped[str | None] = mapped_column(String(40))
    # The pass in progress has read every record up to this id.
    after_id: Mapped[int] = mapped_column(default=0)
    # When the pass in progress started (becomes ``since`` when it completes).
    pass_started: Mapped[str | None] = mapped_column(String(40))


class SurveyState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    NO_ADDRESS = "no_address"


class Survey(db.Model):
    """The satisfaction survey of a closed ticket: one per ticket, ever, rated at most once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    state: Mapped[str] = mapped_column(String(10), default=SurveyState.QUEUED, index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a worker took it for sending; a send that never finished is retried after a while.
    state_since: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    rating: Mapped[int | None]
    rated_at: Mapped[datetime | None] = mapped_column(index=True)
    comment: Mapped[str | None] = mapped_column(Text)
    commented_at: Mapped[datetime | None] = mapped_column(index=True)

    ticket: Mapped[Ticket] = relationship()


class Role(StrEnum):
    MANAGER = "manager"
    TECHNICIAN = "technician"


class User(UserMixin, db.Model):
    """Someone who logs in to the board or the console, or a program holding an API token."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(12))
    # A technician's account is theirs alone: the console shows this technician.
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technician.id"), unique=True)
    # SHA-256 of the API bearer token; the token itself is shown once and never stored.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A disabled account cannot log in; its sessions and API token stop working.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Stored in the session cookie; raising it (new password, disable) ends every session of the user.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The language of the pages this person sees (nl, fr, en); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(2))

    technician: Mapped[Technician | None] = relationship()

    def get_id(self) -> str:
        """What the session cookie holds: the id and the session version, so raising it ends every session."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active


class UrgentStatus(StrEnum):
    """Where a live transfer of an urgent call stands."""

    RINGING = "ringing"  # technicians are being rung
    ONCALL = "oncall"  # the on-call number is being rung
    CONNECTED = "connected"  # someone pressed 1 and is talking to the caller
    QUEUED = "queued"  # nobody took it: a P1 callback at the front instead
    ENDED = "ended"  # the connected call is over
    ABANDONED = "abandoned"  # the caller hung up while on hold


OPEN_URGENT_STATUSES = (UrgentStatus.RINGING, UrgentStatus.ONCALL, UrgentStatus.CONNECTED)


class UrgentTransfer(db.Model):
    """An urgent caller being put through live (DESIGN §5), one per inbound call."""

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=UrgentStatus.RINGING, index=True)
    # Only the on-call number is rung (out of hours).
    oncall_only: Mapped[bool] = mapped_column(default=False)
    # Who took it: a technician, or the on-call number (technician_id empty).
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technician.id"))
    taken_by_oncall: Mapped[bool] = mapped_column(default=False)
    # Indexed for the reports (urgent transfers per day).
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # When the current round of ringing (technicians, then the on-call number) began.
    stage_since: Mapped[datetime | None]
    # The on-call number's leg, a call of its own like each technician's.
    oncall_sid: Mapped[str | None] = mapped_column(String(64))
    connected_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship()
    technician: Mapped[Technician | None] = relationship()
    rings: Mapped[list["UrgentRing"]] = relationship(back_populates="transfer", order_by="UrgentRing.id")


class UrgentRing(db.Model):
    """One technician rung for an urgent call; while it is open they get no callback offers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("urgent_transfer.id"), index=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technician.id"))
    # The technician's leg (placed through the REST API) and when its whisper began.
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    answered_at: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    transfer: Mapped[UrgentTransfer] = relationship(back_populates="rings")
    technician: Mapped[Technician] = relationship()


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Incident(db.Model):
    """One outage, one ticket (DESIGN §10): for one company, or for every caller (no company)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"))
    title: Mapped[str] = mapped_column(String(200))
    # What callers hear, per language; empty falls back to the title.
    say_nl: Mapped[str] = mapped_column(String(500), default="")
    say_fr: Mapped[str] = mapped_column(String(500), default="")
    say_en: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(10), default=IncidentStatus.OPEN, index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    opened_by: Mapped[str] = mapped_column(String(80), default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    company: Mapped[Company | None] = relationship()
    ticket: Mapped[Ticket] = relationship()
    members: Mapped[list["IncidentMember"]] = relationship(back_populates="incident", order_by="IncidentMember.id")
    updates: Mapped[list["IncidentUpdate"]] = relationship(back_populates="incident", order_by="IncidentUpdate.id")

    def spoken(self, language: str) -> str:
        return getattr(self, f"say_{language}", "") or self.title


class IncidentMember(db.Model):
    """A caller kept informed of an incident by SMS: joined by phone, or merged from the queue."""

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    # The caller's own ticket, linked to the incident's (a merged callback's ticket, or one opened on joining).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    # "phone" (joined in the IVR) or "merged" (a queued callback merged from the board).
    via: Mapped[str] = mapped_column(String(10), default="phone")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="members")
    ticket: Mapped[Ticket | None] = relationship()

    # One caller joins an incident once, however often they call.
    __table_args__ = (Index("uq_incident_member_phone", "incident_id", "phone", unique=True),)


class IncidentUpdate(db.Model):
    """What the manager told the joined callers: an update, or the resolution (``final``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    text_nl: Mapped[str] = mapped_column(Text, default="")
    text_fr: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    final: Mapped[bool] = mapped_column(default=False)
    posted_by: Mapped[str] = mapped_column(String(80), default="")
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="updates")

    def text(self, language: str) -> str:
        return getattr(self, f"text_{language}", "")


class Announcement(db.Model):
    """A short message played to every caller of one language after the language choice, until ``ends_at``."""

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(String(500))
    ends_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportDay(db.Model):
    """One finished desk day (Europe/Brussels) of the reports' volumes, as counted by app/report_rollup.py."""

    __tablename__ = "report_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    calls: Mapped[int]
    abandoned: Mapped[int]
    tickets: Mapped[int]
    queued_p1: Mapped[int]
    queued_p2: Mapped[int]
    queued_p3: Mapped[int]
    queued_p4: Mapped[int]
    unreachable: Mapped[int]
    rolled_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportCallbackTimes(db.Model):
    """Every time to callback (whole ms, ascending) of the callbacks completed on a finished desk day, per priority."""

    __tablename__ = "report_callback_times"

    day: Mapped[date] = mapped_column(ForeignKey("report_day.day", ondelete="CASCADE"), primary_key=True)
    priority: Mapped[int] = mapped_column(primary_key=True)
    milliseconds: Mapped[list] = mapped_column(JSON)
