"""The desk's customers: companies, their contacts and contracts, and the phone numbers that find them."""

from app.wording import Invalid


class InvalidRecord(Invalid):
    """A company or contact the desk refuses, with a message a manager can act on."""
