"""The forms people fill in on the board and console (WTForms, each with its CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

#: Longest wrap-up note a technician can save in one go.
MAX_NOTE_LENGTH = 5000


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class LanguageForm(FlaskForm):
    """The language of the signed-in person's pages; empty: the browser's."""

    language = SelectField(_l("Language"), choices=["", "nl", "fr", "en"])


class PriorityForm(FlaskForm):
    priority = IntegerField("Priority", validators=[DataRequired(), NumberRange(min=1, max=4)])


class TechnicianStateForm(FlaskForm):
    state = SelectField("State", choices=["available", "away", "offline"])


class NoteForm(FlaskForm):
    note = TextAreaField("Wrap-up notes", validators=[DataRequired(), Length(max=MAX_NOTE_LENGTH)])
