"""How the library search reads what a therapist types, the same on both databases.

A query becomes terms, one per word (or per known two-word phrase such as "low
back"). A term matches an exercise when one of its alternatives starts a word of
the exercise's name, aliases, summary or indications:

- a word as typed matches the beginning of a word ("psoa" finds "psoas", "hip"
  does not find "whiplash"), after a plural or -ing ending is taken off
  ("stretches" and "stretching" search for "stretch");
- a word of the synonym table brings its whole group, each matched as a whole
  word with or without a plural ending ("hammy" finds "hamstring"; "lat" finds
  "lats" and "latissimus" but not "lateral").

Every term must match. Words such as "the" or "for" are left out.

When a search finds nothing, ``corrected_query`` replaces each word that matches
nothing in the clinic's library with the nearest word that does ("strech" becomes
"stretch"), for the page to show those results instead and say so.
"""

import difflib
import hashlib
import re
import string
from dataclasses import dataclass
from functools import reduce
from operator import add, and_, or_

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Expression,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Concat, Upper

SEARCH_FIELDS = ("name", "aliases", "summary", "indications")

STOP_WORDS = frozenset(
    {"a", "an", "and", "at", "for", "in", "my", "of", "on", "or", "the", "to", "with", "your"}
)

# Words that mean the same thing in a clinic, each group written as the library
# or a patient might say it. Kept small on purpose: a synonym that is only
# sometimes right (thigh for quads: the inner thigh is the adductors) makes
# results worse, so such words stay out, or come in as the narrower phrase.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("hamstring", "hammy", "hammies"),
    ("chest", "pec", "pecs", "pectoral", "pectoralis"),
    ("lat", "lats", "latissimus"),
    ("glute", "gluteal", "gluteus", "buttock", "bum"),
    ("quad", "quadriceps", "front thigh"),
    ("calf", "calves", "gastrocnemius", "gastroc"),
    ("neck", "cervical"),
    ("low back", "lower back", "lumbar"),
    ("upper back", "mid back", "thoracic", "t-spine"),
    ("shoulder blade", "scapula", "scapular", "scap"),
    ("tummy", "belly", "abdominal", "abs"),
)
GROUP_OF: dict[str, tuple[str, ...]] = {word: group for group in SYNONYMS for word in group}
PHRASES = frozenset(word for word in GROUP_OF if " " in word)
SYNONYM_WORDS = frozenset(GROUP_OF) - PHRASES

# A typo is corrected only in a word this long, and only to a word this close
# (difflib's ratio: "strech" and "stretch" are 0.92, "wobbel" and "wobble" 0.83,
# "knitting" and "sitting" 0.8: no).
TYPO_MIN_LENGTH = 4
TYPO_CUTOFF = 0.82
# On PostgreSQL the words to correct against come from the exercises that look most
# like the typo (pg_trgm's word similarity, from the trigram index): this many per word.
TYPO_CANDIDATES = 40
TYPO_SIMILARITY = 0.4
VOCABULARY_SECONDS = 3600


@dataclass(frozen=True)
class Alternative:
    text: str  # lower case; words of a phrase separated by one space
    whole_word: bool  # a whole word (plural or not); otherwise the start of a word


@dataclass(frozen=True)
class Term:
    typed: str  # the word (or phrase) as typed, lower case
    position: int  # where it starts in the typed words
    alternatives: tuple[Alternative, ...]

    @property
    def correctable(self) -> bool:
        return (
            " " not in self.typed
            and len(self.typed) >= TYPO_MIN_LENGTH
            and self.typed.isalpha()
            and not self.alternatives[0].whole_word
        )


def search_text() -> Concat:
    """The searched fields as one text, joined by spaces, so that a match can never
    start in one field and end in the next. On PostgreSQL migration 0004 indexes
    exactly this expression (``UPPER(…) gin_trgm_ops``, what ``icontains`` compares):
    change both together."""
    parts: list = []
    for field in SEARCH_FIELDS:
        parts += [F(field), Value(" ")]
    return Concat(*parts[:-1], output_field=TextField())


def typed_words(query: str) -> list[str]:
    """The query's words, lower case, without punctuation around them ("(hip," is
    "hip"); a word of punctuation only stays as it is, and then matches nothing."""
    words = []
    for raw in query.lower().split():
        word = raw.strip(string.punctuation + "“”‘’«»")
        words.append(word or raw)
    return words


def stem(word: str) -> str:
    """The word without a plural or -ing/-ed ending, as the start of a word to look
    for: "stretches" → "stretch", "injuries" → "injur", "squatting" → "squat"."""
    if len(word) < 5 or not word.isalpha():
        return word
    if word.endswith("ies"):
        return word[:-3]
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    for ending in ("ing", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            base = word[: -len(ending)]
            if base[-1] == base[-2] and base[-1] not in "aeiouls":
                base = base[:-1]  # squatting → squatt → squat; rolling stays roll
            return base
    return word


def terms_of(query: str) -> list[Term]:
    words = typed_words(query)
    kept = [(i, w) for i, w in enumerate(words) if w not in STOP_WORDS]
    if not kept:  # only little words: search for them after all
        kept = list(enumerate(words))
    terms = []
    index = 0
    while index < len(kept):
        position, word = kept[index]
        if index + 1 < len(kept) and f"{word} {kept[index + 1][1]}" in PHRASES:
            word = f"{word} {kept[index + 1][1]}"
            index += 1
        index += 1
        group = GROUP_OF.get(word) or GROUP_OF.get(stem(word))
        if group:
            alternatives = tuple(Alternative(text, whole_word=True) for text in group)
        else:
            alternatives = (Alternative(stem(word), whole_word=False),)
        terms.append(Term(typed=word, position=position, alternatives=alternatives))
    return terms


def _pattern(alternative: Alternative) -> str:
    """A regular expression both databases read alike (PostgreSQL's ARE and Python's
    re, which Django runs for SQLite): the alternative at the start of a word, its
    punctuation escaped, a space in a phrase standing for any spacing."""
    parts = []
    for char in alternative.text:
        if char == " ":
            parts.append(r"\s+")
        elif char in string.punctuation:
            parts.append("\\" + char)
        else:
            parts.append(char)
    pattern = r"(^|\W)" + "".join(parts)
    if alternative.whole_word:
        pattern += r"(e?s)?(\W|$)"
    return pattern


def term_filter(term: Term) -> Q:
    """One term: any of its alternatives, each as a cheap substring test first (on
    PostgreSQL the one the trigram index answers) and then at the start of a word."""
    if not any(char.isalnum() for char in term.typed):
        return Q(pk__in=[])  # punctuation alone ("%", "(") starts no word
    matches = []
    for alternative in term.alternatives:
        # A phrase's words are tested one by one: the text may part them with two
        # spaces or a line break, which the regular expression below allows.
        words = alternative.text.split(" ")
        if connection.vendor == "postgresql":
            substring = reduce(and_, (Q(search_text__icontains=word) for word in words))
        else:
            # Without an index, four short tests beat one on the joined text: a
            # match in the name skips the other three.
            substring = reduce(
                and_,
                (
                    reduce(or_, (Q(**{f"{field}__icontains": word}) for field in SEARCH_FIELDS))
                    for word in words
                ),
            )
        word_start = Q(search_text__iregex=_pattern(alternative))
        if not alternative.whole_word and connection.vendor != "postgresql":
            # SQLite runs a regular expression in Python, row by row: a word at the
            # start of a field or after a space (most matches) is settled by LIKEs,
            # and only the rest ("(straight", "half-kneeling", or "whiplash" for
            # "hip") reach it.
            word_start = (
                reduce(or_, (_starts_a_word(field, alternative.text) for field in SEARCH_FIELDS))
                | word_start
            )
        matches.append(substring & word_start)
    return reduce(or_, matches)


def _starts_a_word(field: str, text: str, *, hyphen: bool = False) -> Q:
    """A quick test that ``text`` starts a word of the field: at its start or after a
    space (or a hyphen, when asked). Plain LIKEs, cheap enough to run on every match."""
    test = Q(**{f"{field}__istartswith": text}) | Q(**{f"{field}__icontains": " " + text})
    if hyphen:
        test |= Q(**{f"{field}__icontains": "-" + text})
    return test


def ranked(exercises: QuerySet, terms: list[Term], query: str) -> QuerySet:
    """Best first: each term scores 3 in the name, 2 in the aliases, 1 elsewhere;
    the whole query in the name adds 3, the exact name 5 more."""
    score: list[Expression] = []
    for term in terms:
        in_name = reduce(
            or_, (_starts_a_word("name", a.text, hyphen=True) for a in term.alternatives)
        )
        in_aliases = reduce(or_, (_starts_a_word("aliases", a.text) for a in term.alternatives))
        score.append(
            Case(
                When(in_name, then=3),
                When(in_aliases, then=2),
                default=1,
                output_field=IntegerField(),
            )
        )
    phrase = " ".join(typed_words(query))
    if len(terms) > 1:
        score.append(Case(When(name__icontains=phrase, then=3), default=0))
    score.append(Case(When(name__iexact=phrase, then=5), default=0))
    total = reduce(add, score)
    return exercises.annotate(rank=total)


def _searchable(exercises: QuerySet) -> QuerySet:
    return exercises.alias(search_text=search_text())


def matching(exercises: QuerySet, query: str) -> QuerySet:
    """The exercises every term of the query matches, with their ``rank``."""
    terms = terms_of(query)
    if not terms:
        return exercises
    exercises = _searchable(exercises)
    exercises = exercises.filter(reduce(and_, (term_filter(term) for term in terms)))
    return ranked(exercises, terms, query)


def _words(texts) -> set[str]:
    words: set[str] = set()
    for text in texts:
        words.update(re.findall(r"[^\W\d_]{3,}", (text or "").lower()))
    return words


def _similar_words(exercises: QuerySet, term: Term) -> set[str]:
    """PostgreSQL: the words of the exercises nearest the typo by pg_trgm's word
    similarity, which the trigram index (migration 0004) answers."""
    with transaction.atomic(), connection.cursor() as cursor:
        # pg_trgm's default (0.6) misses a swapped pair of letters in a short word
        # ("wobbel"); for this statement only: SET LOCAL ends with the transaction,
        # and the default is put back at once.
        cursor.execute(f"SET LOCAL pg_trgm.word_similarity_threshold = {TYPO_SIMILARITY:.2f}")
        rows = list(
            exercises.values_list(*SEARCH_FIELDS)
            .alias(search_upper=Upper(search_text()))
            .filter(search_upper__trigram_word_similar=term.typed.upper())[:TYPO_CANDIDATES]
        )
        cursor.execute("SET LOCAL pg_trgm.word_similarity_threshold TO DEFAULT")
    return _words(text for row in rows for text in row)


def _library_words(exercises: QuerySet) -> set[str]:
    """SQLite: every word of these exercises (a clinic's library is a few hundred),
    kept in the cache until one of them changes, is added or goes (the key holds
    their number and latest change): a typo costs one short query, not a read of
    the whole library."""
    state = exercises.aggregate(count=Count("pk"), changed=Max("updated_at"))
    key = (
        "exercise-words:"
        + hashlib.sha256(
            f"{exercises.query}|{state['count']}|{state['changed']}".encode()
        ).hexdigest()
    )
    words = cache.get(key)
    if words is None:
        rows = exercises.values_list(*SEARCH_FIELDS)
        words = _words(text for row in rows for text in row)
        cache.set(key, words, timeout=VOCABULARY_SECONDS)
    return words


def corrected_query(exercises: QuerySet, query: str) -> str | None:
    """The query with each word that matches nothing in ``exercises`` replaced by the
    closest word that does, or None when no word needs (or finds) a correction."""
    words = typed_words(query)
    changed = False
    searched = _searchable(exercises)
    library: set[str] | None = None
    for term in terms_of(query):
        if not term.correctable or searched.filter(term_filter(term)).exists():
            continue
        # The words a typo could have meant, and the synonym table's.
        if connection.vendor == "postgresql":
            vocabulary = _similar_words(exercises, term)
        else:
            library = _library_words(exercises) if library is None else library
            vocabulary = library
        vocabulary = vocabulary | SYNONYM_WORDS
        close = difflib.get_close_matches(term.typed, vocabulary, n=1, cutoff=TYPO_CUTOFF)
        # "streching": its stem "strech" is the closer to "stretch".
        close = close or difflib.get_close_matches(
            stem(term.typed), vocabulary, n=1, cutoff=TYPO_CUTOFF
        )
        if close:
            words[term.position] = close[0]
            changed = True
    return " ".join(words) if changed else None
