"""The calendar file a patient downloads instead of reminder emails: one weekly event
at their time, in their time zone, that their phone's calendar reminds them of.

Written by hand to RFC 5545 (it is a few lines): CRLF line endings, text escaped,
lines folded at 75 octets without splitting a character, and a ``VTIMEZONE`` for the
event's ``TZID`` (required by the RFC; Outlook refuses files without it), its yearly
rules read from the zone's own transitions.
"""

import calendar as month_calendar
import datetime
from collections.abc import Iterable
from zoneinfo import ZoneInfo

DAY_CODES = {1: "MO", 2: "TU", 3: "WE", 4: "TH", 5: "FR", 6: "SA", 7: "SU"}
PRODID = "-//OpenHEP//Patient page reminders//EN"
SUMMARY = "Home exercises"
DURATION = "PT30M"
ONSET_YEAR = 1970


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line
    breaks as ``\\n``."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded at 75 octets (RFC 5545 3.1), never inside a character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        # Continuation lines begin with a space, which counts towards their 75.
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime.datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _offset(delta: datetime.timedelta | None) -> str:
    minutes = int((delta or datetime.timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{minutes:02d}"


def _transitions(zone: ZoneInfo, start: datetime.datetime, end: datetime.datetime):
    """The zone's offset changes between two UTC moments: (UTC moment, old offset,
    new offset), found day by day and then to the minute."""
    step = datetime.timedelta(days=1)
    moment = start
    before = moment.astimezone(zone).utcoffset()
    while moment < end:
        following = moment + step
        after = following.astimezone(zone).utcoffset()
        if after != before:
            low, high = moment, following
            while high - low > datetime.timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    middle = low + datetime.timedelta(minutes=1)
                if middle.astimezone(zone).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            yield high, before, after
            before = after
        moment = following


def _by_day(day: datetime.date) -> str:
    """The day as a yearly rule names it: "1SU" (first Sunday) … "-1SU" (last)."""
    code = DAY_CODES[day.isoweekday()]
    days_in_month = month_calendar.monthrange(day.year, day.month)[1]
    if day.day + 7 > days_in_month:
        return f"-1{code}"
    return f"{(day.day - 1) // 7 + 1}{code}"


def _rule_day(year: int, month: int, by_day: str) -> datetime.date:
    """The day a yearly "BYMONTH=month;BYDAY=by_day" rule falls on in ``year``."""
    ordinal, code = int(by_day[:-2]), by_day[-2:]
    weekday = next(number for number, name in DAY_CODES.items() if name == code)
    days = [
        datetime.date(year, month, day)
        for day in range(1, month_calendar.monthrange(year, month)[1] + 1)
        if datetime.date(year, month, day).isoweekday() == weekday
    ]
    return days[ordinal - 1] if ordinal > 0 else days[ordinal]


def vtimezone(name: str, start: datetime.datetime) -> list[str]:
    """The ``VTIMEZONE`` lines for ``name``: each clock change of the year from
    ``start`` as a yearly rule, or one fixed offset for a zone without changes."""
    zone = ZoneInfo(name)
    begin = start.astimezone(datetime.UTC)
    changes = list(_transitions(zone, begin, begin + datetime.timedelta(days=366)))
    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}"]
    if not changes:
        local = start.astimezone(zone)
        lines += [
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            f"TZOFFSETFROM:{_offset(local.utcoffset())}",
            f"TZOFFSETTO:{_offset(local.utcoffset())}",
            f"TZNAME:{escape_text(local.tzname() or name)}",
            "END:STANDARD",
        ]
    for moment, before, after in changes:
        after_local = moment.astimezone(zone)
        kind = "DAYLIGHT" if after_local.dst() else "STANDARD"
        # DTSTART is the local wall time of the change, on the clock before it.
        wall = (moment + (before or datetime.timedelta())).replace(tzinfo=None)
        by_day = _by_day(wall.date())
        # The rule's onset goes back to 1970, so the observance covers the event's
        # first weeks too (a rule starting after them leaves them undefined).
        onset = datetime.datetime.combine(_rule_day(ONSET_YEAR, wall.month, by_day), wall.time())
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{_local(onset)}",
            f"RRULE:FREQ=YEARLY;BYMONTH={wall.month};BYDAY={by_day}",
            f"TZOFFSETFROM:{_offset(before)}",
            f"TZOFFSETTO:{_offset(after)}",
            f"TZNAME:{escape_text(after_local.tzname() or name)}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return lines


def first_day(days: str, today: datetime.date) -> datetime.date:
    """The first of the chosen weekdays on or after ``today``."""
    day = today
    while str(day.isoweekday()) not in days:
        day += datetime.timedelta(days=1)
    return day


def weekly_calendar(
    *,
    uid: str,
    weekdays: str,
    time: datetime.time,
    time_zone: str,
    page_url: str,
    clinic_name: str,
    last_day: datetime.date | None,
    now: datetime.datetime,
) -> str:
    """The whole file: one event each chosen weekday at ``time`` in ``time_zone``, with
    an alarm at its start, ending after ``last_day`` (the page's last day) if any."""
    zone = ZoneInfo(time_zone)
    start_day = first_day(weekdays, now.astimezone(zone).date())
    start = datetime.datetime.combine(start_day, time.replace(second=0, microsecond=0))
    rule = "FREQ=WEEKLY;BYDAY=" + ",".join(DAY_CODES[int(day)] for day in weekdays)
    if last_day is not None:
        # With a TZID start, UNTIL is in UTC (RFC 5545 3.3.10): the end of the last day.
        until = datetime.datetime.combine(last_day, datetime.time(23, 59, 59), tzinfo=zone)
        rule += f";UNTIL={_utc(until)}"
    description = f"Your home exercises from {clinic_name}: {page_url}"
    lines: Iterable[str] = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        *vtimezone(time_zone, start.replace(tzinfo=zone)),
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART;TZID={time_zone}:{_local(start)}",
        f"DURATION:{DURATION}",
        f"RRULE:{rule}",
        f"SUMMARY:{escape_text(SUMMARY)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{page_url}",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{escape_text(SUMMARY)}",
        "TRIGGER:PT0M",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
