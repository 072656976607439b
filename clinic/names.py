"""Names compared the way people say them: without capitals, apostrophes, hyphens,
spaces or common accents, in SQL (``folded``) and in Python (``fold``) alike. For the
patient search and the new-patient form's duplicate question."""

from django.db import connection
from django.db.models import BooleanField, Func, Q, TextField, Value
from django.db.models.functions import Lower

# What people put inside names, left out on both sides of a comparison: "obrien"
# is O'Brien and O’Brien, "vanderberg" is Van der Berg.
NAME_MARKS = ("'", "’", "‘", "-", " ", ".")
# Accented letters compared as their plain ones ("jose" finds José), after lowering.
ACCENTS = {
    "a": "áàâäãå",
    "c": "ç",
    "e": "éèêë",
    "i": "íìîï",
    "n": "ñ",
    "o": "óòôöõø",
    "u": "úùûü",
    "y": "ýÿ",
}
UNACCENT = str.maketrans(
    {accented: plain for plain, letters in ACCENTS.items() for accented in letters}
)


class Translate(Func):
    """PostgreSQL's TRANSLATE: each character of the first list becomes the one at the
    same place in the second, or goes when the second is shorter."""

    function = "TRANSLATE"
    output_field = TextField()


class SQLiteFold(Func):
    """``fold`` itself, which SQLite calls row by row (``register_fold``)."""

    function = "openhep_fold"
    output_field = TextField()


def folded(field: str):
    """The field in lower case without name punctuation, spaces or accents, in SQL:
    one TRANSLATE on PostgreSQL, ``fold`` on SQLite (whose LOWER knows only A to Z)."""
    if connection.vendor == "postgresql":
        accented = "".join(ACCENTS.values())
        plain = "".join(letter * len(letters) for letter, letters in ACCENTS.items())
        return Translate(Lower(field), Value(accented + "".join(NAME_MARKS)), Value(plain))
    return SQLiteFold(field)


def register_fold(sender, connection, **kwargs):
    """``connection_created`` receiver: gives each SQLite connection ``fold``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "openhep_fold", 1, lambda text: None if text is None else fold(text), deterministic=True
        )


def fold(text: str) -> str:
    """``folded`` in Python, for what is typed."""
    text = text.lower().translate(UNACCENT)
    return "".join(char for char in text if char not in NAME_MARKS)


class Like(Func):
    """``LOWER(field) LIKE pattern``, the pattern's % and _ as wildcards, as a condition."""

    arg_joiner = " LIKE "
    template = "(%(expressions)s ESCAPE '\\')"
    output_field = BooleanField()


def _like_literal(char: str) -> str:
    return "\\" + char if char in "\\%_" else char


def _in_order(wanted: str) -> str:
    """A LIKE pattern every name whose fold contains ``wanted`` matches: its letters in
    order with anything between, an accentable letter standing for any one character."""
    letters = "%".join("_" if char in ACCENTS else _like_literal(char) for char in wanted)
    return f"%{letters}%"


def name_contains(field: str, typed: str) -> Q:
    """The field's name, folded, contains what was typed, folded (``fold``).

    Folding every row costs time, so two cheap LIKEs go first: the name as stored
    contains the word as typed (most searches end there), or it has the word's letters
    in order (``_in_order``). Only the rows that pass the second are folded to be sure.
    """
    wanted = fold(typed)
    if not wanted:
        return Q(pk__in=[])
    exact = "%" + "".join(map(_like_literal, wanted)) + "%"
    return Q(**{f"{field}__icontains": typed}) | (
        Q(Like(Lower(field), Value(_in_order(wanted)))) & Q(Like(folded(field), Value(exact)))
    )


def name_equals(field: str, typed: str) -> Q:
    """The field's name, folded, is what was typed, folded; the same cheap LIKE first."""
    wanted = fold(typed)
    if not wanted:  # Only punctuation: it names nobody.
        return Q(pk__in=[])
    return Q(Like(Lower(field), Value(_in_order(wanted)))) & Q(
        Like(folded(field), Value("".join(map(_like_literal, wanted))))
    )
