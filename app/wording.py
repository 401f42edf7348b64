"""Sentences the desk writes in English (logs, the API, the command line) that a page says in its reader's language.

A refusal carries its English template and its values; ``str()`` of it is the English sentence,
and ``app.web.i18n.said`` looks the template up in the pages' catalogs. `make messages`
extracts the templates given to these exceptions (and to ``N_``) from the code.
"""


def N_(template: str) -> str:
    """Marks a template for the pages' catalogs without translating it here."""
    return template


def worded(error: Exception, template: str, values: dict[str, object]) -> str:
    """Keep ``template`` and ``values`` on ``error``; the English sentence."""
    error.template, error.values = template, values
    return template % values if values else template


class Invalid(ValueError):
    """Input the desk refuses, with a sentence a person can act on."""

    def __init__(self, template: str, /, **values: object) -> None:
        super().__init__(worded(self, template, values))
