"""The questionnaire definition format: a questionnaire as data.

A definition is a JSON object (``FORMAT`` below; ``docs/outcomes.md`` shows it whole):
its title, version, licence note and citation, the items the patient answers, and the
rules that turn answers into a score (``outcomes.scoring``). It is close enough to
FHIR R4 ``Questionnaire`` to export as one (``outcomes.fhir``). A clinic may also
write one as a spreadsheet (CSV): settings as ``key,value`` rows, then a header row
``id,text,type,...`` and one row per item (``read_csv``).

``validate`` checks a whole definition and reports every problem at once, each naming
its item (or its spreadsheet row), so a clinic fixes a file in one go and nothing is
imported half-way.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal, InvalidOperation

FORMAT = "openhep-questionnaire/1"
ITEM_TYPES = ("integer", "choice", "activities", "text")
SCORED_TYPES = ("integer", "choice", "activities")
METHODS = ("value", "sum", "mean", "percent")
KINDS = ("status", "change")
MAX_ITEMS = 100
MAX_OPTIONS = 20
MAX_ACTIVITIES = 10
# Answers are whole numbers within this of zero; a scale spans at most SCALE_SPAN
# (0-100, a visual analogue scale written as numbers); scores fit the score column.
MAX_VALUE = 1000
SCALE_SPAN = 100
MAX_SCORE = 99_999
TEXT_LIMIT = 500
ID_SHAPE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
SLUG_SHAPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
CSV_COLUMNS = ("id", "text", "type", "min", "max", "min_label", "max_label", "options", "required")
# The spreadsheet's settings rows: those about the questionnaire, then those of its
# scoring (by the name the spreadsheet uses -> the name in "scoring").
CSV_ABOUT = ("slug", "title", "short_title", "version", "description", "licence", "citation")
CSV_SCORING = {
    "scoring": "method",
    "scored_items": "items",
    **{
        key: key
        for key in ("min_answered", "prorate", "decimals", "higher_is_better", "mic", "kind")
    },
}
CSV_SETTINGS = (*CSV_ABOUT, *CSV_SCORING)


class DefinitionError(ValueError):
    """A definition that cannot be used, with every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _text(value, *, limit: int = TEXT_LIMIT) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if 0 < len(value) <= limit else None


def _int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,6}", value.strip()):
        return int(value.strip())
    return None


def _item(raw, where: str, problems: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: an item is an object with an id, a text and a type.")
        return None
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not ID_SHAPE.match(item_id):
        problems.append(
            f"{where}: the id {item_id!r} is not usable: lower-case letters, digits, - and _, "
            "starting with a letter, at most 40 characters."
        )
        return None
    where = f'{where} ("{item_id}")'
    text = _text(raw.get("text"))
    if text is None:
        problems.append(f"{where}: the question text is missing or longer than {TEXT_LIMIT}.")
    kind = raw.get("type")
    if kind not in ITEM_TYPES:
        problems.append(f"{where}: the type {kind!r} is not one of {', '.join(ITEM_TYPES)}.")
        return None
    item: dict = {"id": item_id, "text": text or "", "type": kind}
    item["required"] = raw.get("required") in (True, "yes", "true", "1")
    if kind in ("integer", "activities"):
        low, high = _int(raw.get("min", 0)), _int(raw.get("max", 10))
        if low is None or high is None or not low < high:
            problems.append(f"{where}: min and max are whole numbers with min below max.")
        elif high - low > SCALE_SPAN or max(abs(low), abs(high)) > MAX_VALUE:
            problems.append(
                f"{where}: a scale spans at most {SCALE_SPAN} (e.g. 0 to 100), "
                f"between -{MAX_VALUE} and {MAX_VALUE}."
            )
        else:
            item["min"], item["max"] = low, high
        for key in ("min_label", "max_label"):
            if raw.get(key):
                label = _text(raw[key], limit=80)
                if label is None:
                    problems.append(f"{where}: {key} is longer than 80 characters.")
                else:
                    item[key] = label
    if kind == "activities":
        most = _int(raw.get("max_activities", 5))
        if most is None or not 1 <= most <= MAX_ACTIVITIES:
            problems.append(f"{where}: max_activities is 1 to {MAX_ACTIVITIES}.")
        else:
            item["max_activities"] = most
    if kind == "choice":
        item["options"] = _options(raw.get("options"), where, problems)
    return item


def _options(raw, where: str, problems: list[str]) -> list[dict]:
    if isinstance(raw, str):  # "0=None|1=Some|2=A lot", as a spreadsheet writes it.
        parsed = []
        for part in filter(None, (p.strip() for p in raw.split("|"))):
            code, _, words = part.partition("=")
            parsed.append({"value": code, "label": words})
        raw = parsed
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_OPTIONS:
        problems.append(f"{where}: a choice has 2 to {MAX_OPTIONS} options.")
        return []
    options: list[dict] = []
    for number, option in enumerate(raw, start=1):
        value = _int(option.get("value")) if isinstance(option, dict) else None
        label = _text(option.get("label"), limit=200) if isinstance(option, dict) else None
        if value is None or label is None or abs(value) > MAX_VALUE:
            problems.append(
                f"{where}, option {number}: an option is a whole number "
                f"(-{MAX_VALUE} to {MAX_VALUE}) and a label."
            )
            continue
        options.append({"value": value, "label": label})
    values = [o["value"] for o in options]
    if len(set(values)) != len(values):
        problems.append(f"{where}: two options have the same value.")
    return options


def _bounds(item: dict) -> tuple[int, int]:
    if item["type"] == "choice":
        values = [o["value"] for o in item["options"]] or [0]
        return min(values), max(values)
    return item.get("min", 0), item.get("max", 0)


def _scoring(raw, items: list[dict], problems: list[str], *, items_ok: bool = True) -> dict:
    if not isinstance(raw, dict):
        problems.append("scoring: the rules that make the score are missing.")
        return {}
    method = raw.get("method")
    if method not in METHODS:
        problems.append(f"scoring: the method {method!r} is not one of {', '.join(METHODS)}.")
        return {}
    by_id = {item["id"]: item for item in items}
    scored = raw.get("items")
    if scored in (None, "", []):
        scored = [item["id"] for item in items if item["type"] in SCORED_TYPES]
    elif isinstance(scored, str):
        scored = scored.split()
    if not isinstance(scored, list) or not scored:
        problems.append("scoring: no item is scored.")
        return {}
    if not all(isinstance(item_id, str) for item_id in scored):
        problems.append("scoring: items lists the ids of the scored items, as text.")
        return {}
    for item_id in scored:
        if item_id not in by_id:
            problems.append(f'scoring: the scored item "{item_id}" is not an item.')
        elif by_id[item_id]["type"] not in SCORED_TYPES:
            problems.append(f'scoring: the item "{item_id}" is free text, which has no score.')
    if method == "value" and (
        len(scored) != 1 or by_id.get(scored[0], {}).get("type") == "activities"
    ):
        problems.append("scoring: the method value scores exactly one number or choice item.")
    rules: dict = {"method": method, "items": list(scored)}
    has_activities = any(by_id.get(i, {}).get("type") == "activities" for i in scored)
    default_min = 1 if has_activities else len(scored) if method in ("sum", "percent") else 1
    least = _int(raw.get("min_answered", default_min))
    too_many = items_ok and not has_activities and least is not None and least > len(scored)
    if least is None or least < 1 or too_many:
        problems.append("scoring: min_answered is at least 1 and at most the scored items.")
        least = 1
    rules["min_answered"] = least
    rules["prorate"] = raw.get("prorate") in (True, "yes", "true", "1")
    decimals = _int(raw.get("decimals", 1))
    if decimals is None or not 0 <= decimals <= 2:
        problems.append("scoring: decimals is 0, 1 or 2.")
        decimals = 1
    rules["decimals"] = decimals
    higher = raw.get("higher_is_better")
    if higher not in (True, False, "yes", "no", "true", "false"):
        problems.append("scoring: say whether a higher score is better (higher_is_better).")
    rules["higher_is_better"] = higher in (True, "yes", "true")
    kind = raw.get("kind", "status") or "status"
    if kind not in KINDS:
        problems.append("scoring: kind is status (compared with a baseline) or change.")
    rules["kind"] = kind
    mic = raw.get("mic")
    if mic in (None, ""):
        rules["mic"] = None
    else:
        try:
            value = Decimal(str(mic))
            if not value > 0:
                raise InvalidOperation
            rules["mic"] = str(value)
        except InvalidOperation:
            problems.append("scoring: the minimal important change (mic) is a positive number.")
    if all(by_id.get(i, {}).get("type") in SCORED_TYPES for i in scored):
        rules["range"] = _range(method, [by_id[i] for i in scored])
        if max(abs(end) for end in rules["range"]) > MAX_SCORE:
            problems.append(
                f"scoring: scores could reach {max(rules['range'], key=abs)}; "
                f"OpenHEP stores scores up to {MAX_SCORE:,}."
            )
    return rules


def _range(method: str, items: list[dict]) -> list[int]:
    if method == "percent":
        return [0, 100]
    lows, highs = zip(*(_bounds(item) for item in items), strict=True)
    if method == "sum":
        return [sum(lows), sum(highs)]
    return [min(lows), max(highs)]


def validate(data, *, rows: list[str] | None = None) -> dict:
    """A definition checked and put in order, or ``DefinitionError`` naming each problem.
    ``rows`` names each item where a problem is reported (a spreadsheet's rows)."""
    if not isinstance(data, dict):
        raise DefinitionError(["A definition is a JSON object."])
    problems: list[str] = []
    if data.get("format", FORMAT) != FORMAT:
        problems.append(f"format: this file is {data.get('format')!r}; OpenHEP reads {FORMAT}.")
    title = _text(data.get("title"), limit=150)
    if title is None:
        problems.append("title: missing, or longer than 150 characters.")
    short = _text(data.get("short_title") or (title or "")[:40], limit=40)
    if short is None:
        problems.append("short_title: at most 40 characters.")
    about = {}
    for key, limit in (("description", 1000), ("licence", 2000), ("citation", 2000)):
        value = data.get(key)
        about[key] = _text(value, limit=limit) or ""
        if value not in (None, "") and not about[key]:
            problems.append(f"{key}: text of at most {limit:,} characters.")
    slug = data.get("slug") or re.sub(r"[^a-z0-9]+", "-", (title or "").lower()).strip("-")[:60]
    if not isinstance(slug, str) or not SLUG_SHAPE.match(slug):
        problems.append("slug: lower-case letters, digits and -, at most 60 characters.")
    version = _text(str(data.get("version", "") or ""), limit=20)
    if version is None:
        problems.append("version: missing, or longer than 20 characters.")
    raw_items = data.get("items")
    items: list[dict] = []
    if not isinstance(raw_items, list) or not raw_items:
        problems.append("items: a questionnaire has at least one item.")
    elif len(raw_items) > MAX_ITEMS:
        problems.append(f"items: at most {MAX_ITEMS} items.")
    else:
        wheres = rows or [f"item {n}" for n in range(1, len(raw_items) + 1)]
        for where, raw in zip(wheres, raw_items, strict=True):
            item = _item(raw, where, problems)
            if item is not None:
                items.append(item)
        ids = [item["id"] for item in items]
        for item_id in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f'items: the id "{item_id}" is used twice.')
    scoring = _scoring(data.get("scoring"), items, problems, items_ok=not problems)
    if problems:
        raise DefinitionError(problems)
    definition = {
        "format": FORMAT,
        "slug": slug,
        "version": version,
        "title": title,
        "short_title": short,
        **about,
        "items": items,
        "scoring": scoring,
    }
    return definition


def read_json(content: bytes) -> dict:
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DefinitionError([f"The file is not JSON that can be read: {error}."]) from error
    return validate(data)


def read_csv(content: bytes) -> dict:
    """A definition written as a spreadsheet: settings rows (``title,Neck questionnaire``),
    then the header row ``id,text,type,...``, then an item a row. Problems name the row
    as the spreadsheet numbers it."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DefinitionError(["The file is not UTF-8 text (save it as CSV UTF-8)."]) from error
    problems: list[str] = []
    data: dict = {"items": [], "scoring": {}}
    rows: list[str] = []
    header: list[str] | None = None
    reader = csv.reader(io.StringIO(text))
    table: list[list[str]] = []
    try:
        table.extend(reader)
    except csv.Error as error:
        raise DefinitionError(
            [f"Row {reader.line_num}: this row cannot be read ({error})."]
        ) from error
    for number, row in enumerate(table, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if header is None:
            key = cells[0].lower()
            if key == "id":
                header = [cell.lower() for cell in cells]
                unknown = [c for c in header if c not in CSV_COLUMNS]
                if unknown or "text" not in header or "type" not in header:
                    problems.append(
                        f"Row {number}: the item columns are {', '.join(CSV_COLUMNS)} "
                        "(id, text and type needed)."
                    )
                continue
            if key not in CSV_SETTINGS:
                problems.append(
                    f"Row {number}: {cells[0]!r} is not a setting; the settings are "
                    f"{', '.join(CSV_SETTINGS)}, then the header row id,text,type,..."
                )
                continue
            value = cells[1] if len(cells) > 1 else ""
            if key in CSV_SCORING:
                data["scoring"][CSV_SCORING[key]] = value
            else:
                data[key] = value
            continue
        values = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))
        item = {k: v for k, v in values.items() if v != ""}
        data["items"].append(item)
        rows.append(f"Row {number}")
    if header is None:
        problems.append("No header row id,text,type,... was found, so there are no items.")
    if problems:
        raise DefinitionError(problems)
    return validate(data, rows=rows)


def read_file(name: str, content: bytes) -> dict:
    """A definition from an uploaded file, by its name: ``.json`` or ``.csv``."""
    lower = name.lower()
    if lower.endswith(".json"):
        return read_json(content)
    if lower.endswith(".csv"):
        return read_csv(content)
    raise DefinitionError(["Upload a .json definition or a .csv spreadsheet."])


def scored_items(definition: dict) -> list[dict]:
    wanted = definition["scoring"]["items"]
    return [item for item in definition["items"] if item["id"] in wanted]
