"""Names compared the way people say them: without capitals, apostrophes, hyphens,
spaces or common accents, in SQL (``folded``) and in Python (``fold``) alike. For the
patient search and the new-patient form's duplicate question."""

from django.db import connection
from django.db.models import Func, TextField, Value
from django.db.models.functions import Lower, Replace

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
# SQLite's LOWER leaves É as it is, and each letter costs a REPLACE on every row
# searched there: the commonest letters only, in both cases. PostgreSQL lowers
# every letter and folds them all in one TRANSLATE.
SQLITE_ACCENTS = {"a": "áäÁÄ", "c": "ç", "e": "éèëÉÈ", "i": "í", "n": "ñ", "o": "óöøÓÖ", "u": "üúÜ"}
UNACCENT = str.maketrans(
    {accented: plain for plain, letters in ACCENTS.items() for accented in letters}
)


class Translate(Func):
    """PostgreSQL's TRANSLATE: each character of the first list becomes the one at the
    same place in the second, or goes when the second is shorter."""

    function = "TRANSLATE"
    output_field = TextField()


def folded(field: str):
    """The field in lower case without name punctuation, spaces or accents, in SQL."""
    if connection.vendor == "postgresql":
        accented = "".join(ACCENTS.values())
        plain = "".join(letter * len(letters) for letter, letters in ACCENTS.items())
        return Translate(Lower(field), Value(accented + "".join(NAME_MARKS)), Value(plain))
    expression: Func = Lower(field)
    for mark in NAME_MARKS:
        expression = Replace(expression, Value(mark), Value(""))
    for plain, letters in SQLITE_ACCENTS.items():
        for letter in letters:
            expression = Replace(expression, Value(letter), Value(plain))
    return expression


def fold(text: str) -> str:
    """``folded`` in Python, for what is typed."""
    text = text.lower().translate(UNACCENT)
    return "".join(char for char in text if char not in NAME_MARKS)
