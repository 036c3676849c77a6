# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""5-field cron schedules (freshdock dialect) and "is this container due?" for periodic one-shot runs.

Dialect (freshdock §1.2): `minute hour day-of-month month day-of-week`, ranges 0-59, 0-23, 1-31, 1-12, 0-6
(Sunday = 0, 7 rejected), numbers only, no seconds field. Tokens `*`, `N`, `A-B`, `*/n`, `A-B/n`, `N/n`
(= N..max step n) and comma lists. When day-of-month and day-of-week are both restricted a day matches if
EITHER does (Vixie union); a field counts as unrestricted only when it is literally `*` (as in freshdock,
so `*/2` restricts).

Times are local wall-clock times. `next_fire` finds the first whole minute strictly after an instant whose
local fields match; a wall-clock time skipped by a spring-forward gap does not fire that day, and a time
repeated by a fall-back overlap fires once (its first occurrence).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Iterator

MODE_DEFAULT_SCHEDULES = {"nightly": "0 4 * * *", "weekly": "0 4 * * 0", "monthly": "0 4 1 * *"}

# Four years plus a day always contains a Feb 29 (except across a skipped century leap year such as
# 2100, which freshdock does not handle either); beyond it a cron is treated as never firing.
HORIZON_DAYS = 4 * 366 + 1

# (name, min, max) in field order.
_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 6),
)
_FORMAT_HINT = "expected 5 fields 'minute hour day-of-month month day-of-week', e.g. '0 4 * * *'"
_TOKEN_HINT = "use *, N, A-B, */n, A-B/n or N/n, separated by commas"
# ASCII digits only: int() alone would also take '+5', ' 5', '1_0' and non-ASCII digits.
_NUMBER_RE = re.compile(r"[0-9]+", re.ASCII)
_UTC = datetime.timezone.utc
_MINUTE = datetime.timedelta(minutes=1)


class CronError(ValueError):
    """An invalid cron expression; the message names the field and how to fix it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Cron:
    minutes: frozenset
    hours: frozenset
    days: frozenset
    months: frozenset
    weekdays: frozenset  # 0 = Sunday
    dom_star: bool
    dow_star: bool
    text: str

    def day_matches(self, day: datetime.date) -> bool:
        if day.month not in self.months:
            return False
        dom_ok = day.day in self.days
        dow_ok = day.isoweekday() % 7 in self.weekdays
        if self.dom_star or self.dow_star:
            # One side is '*' (always true), so this collapses to the restricted side.
            return dom_ok and dow_ok
        return dom_ok or dow_ok

    def matches(self, local: datetime.datetime) -> bool:
        """Do the wall-clock fields of `local` (naive or aware, already in local time) match?"""
        return local.minute in self.minutes and local.hour in self.hours and self.day_matches(local.date())

    def __str__(self) -> str:
        return self.text


def _number(token: str, name: str, low: int, high: int, expr: str) -> int:
    if not _NUMBER_RE.fullmatch(token):
        if token.isalpha():
            hint = "names are not supported, use numbers"
            if name == "day-of-week":
                hint += " (0 = Sunday ... 6 = Saturday)"
        else:
            hint = _TOKEN_HINT
        raise CronError(f"cron '{expr}': {name} field: '{token}' is not a number; {hint}", name)
    value = int(token)
    if not low <= value <= high:
        hint = "; Sunday is 0, use 0 instead of 7" if name == "day-of-week" and value == 7 else ""
        raise CronError(f"cron '{expr}': {name} field: {value} is out of range {low}-{high}{hint}", name)
    return value


def _parse_field(text: str, name: str, low: int, high: int, expr: str) -> frozenset:
    values: set = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"cron '{expr}': {name} field '{text}' has an empty list item; {_TOKEN_HINT}", name)
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not _NUMBER_RE.fullmatch(step_text):
                raise CronError(f"cron '{expr}': {name} field: step in '{part}' must be a whole number of at least 1", name)
            step = int(step_text)
            if step < 1:
                raise CronError(f"cron '{expr}': {name} field: step 0 in '{part}' must be at least 1", name)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _dash, last = base.partition("-")
            start = _number(first, name, low, high, expr)
            end = _number(last, name, low, high, expr)
            if start > end:
                raise CronError(
                    f"cron '{expr}': {name} field: range '{base}' is reversed; write the smaller value first ({end}-{start})",
                    name,
                )
        else:
            start = _number(base, name, low, high, expr)
            # Vixie: 'N/n' runs from N to the field maximum; a bare 'N' is that one value.
            end = high if slash else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse_cron(text: str) -> Cron:
    """Parse a 5-field cron expression; raises CronError naming the offending field."""
    if not isinstance(text, str):
        raise CronError(f"cron must be a string, got {type(text).__name__}; {_FORMAT_HINT}")
    fields = text.split()
    expr = " ".join(fields)
    if not fields:
        raise CronError(f"cron is empty; {_FORMAT_HINT}")
    if len(fields) != 5:
        hint = _FORMAT_HINT
        if len(fields) == 6:
            hint += " (a leading seconds field, as in Watchtower's '0 0 4 * * *', is not supported: drop it)"
        raise CronError(f"cron '{expr}' has {len(fields)} fields; {hint}")
    sets = [_parse_field(field, name, low, high, expr) for field, (name, low, high) in zip(fields, _FIELDS)]
    return Cron(
        minutes=sets[0],
        hours=sets[1],
        days=sets[2],
        months=sets[3],
        weekdays=sets[4],
        dom_star=fields[2] == "*",
        dow_star=fields[4] == "*",
        text=expr,
    )


def _wall_to_utc(wall: datetime.datetime, tz: datetime.tzinfo) -> datetime.datetime | None:
    """The first real instant showing naive wall-clock time `wall` in `tz`, or None if a DST gap skips it."""
    # fold=0 picks the earlier offset, i.e. the first occurrence of a time repeated at fall-back.
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(_UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None  # round trip moved the clock: the time does not exist (spring-forward gap)
    return instant


def _wall_times(cron: Cron, start: datetime.datetime) -> Iterator[datetime.datetime]:
    """Naive wall-clock minutes >= `start` matching `cron`, ascending, within the horizon.

    Whole days and hours that cannot match are skipped, so a never-firing cron costs ~HORIZON_DAYS
    cheap date checks instead of two million minute steps.
    """
    hours = sorted(cron.hours)
    minutes = sorted(cron.minutes)
    first = start.date().toordinal()
    last = min(first + HORIZON_DAYS, datetime.date.max.toordinal())  # no OverflowError near year 9999
    for ordinal in range(first, last + 1):
        day = datetime.date.fromordinal(ordinal)
        if not cron.day_matches(day):
            continue
        for hour in hours:
            if ordinal == first and hour < start.hour:
                continue
            for minute in minutes:
                wall = datetime.datetime(day.year, day.month, day.day, hour, minute)
                if wall >= start:
                    yield wall


def _resolve_tz(tz: datetime.tzinfo | None, *moments: datetime.datetime | None) -> datetime.tzinfo | None:
    if tz is not None:
        return tz
    for moment in moments:
        if moment is not None and moment.tzinfo is not None:
            return moment.tzinfo
    return None


def _localize(moment: datetime.datetime, tz: datetime.tzinfo | None) -> datetime.datetime:
    """Aware → converted to `tz`; naive → read as a wall-clock time in `tz` (or left naive without one)."""
    if tz is None:
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


def next_fire(cron: Cron, after: datetime.datetime, tz: datetime.tzinfo | None = None) -> datetime.datetime | None:
    """First whole minute strictly after `after` whose local wall-clock fields match `cron`, or None.

    The zone is `tz`, else `after`'s own tzinfo; an aware result is returned in that zone. A naive
    `after` with a `tz` is a wall-clock time there; naive without any zone means plain wall-clock
    arithmetic with no DST. None means no fire within ~4 years (e.g. '0 0 30 2 *').
    """
    zone = _resolve_tz(tz, after)
    local = _localize(after, zone)
    start = local.replace(tzinfo=None, second=0, microsecond=0, fold=0) + _MINUTE
    if zone is None:
        return next(_wall_times(cron, start), None)
    # Compare in UTC: Python compares two datetimes sharing a tzinfo by wall time, ignoring fold.
    after_utc = local.astimezone(_UTC)
    for wall in _wall_times(cron, start):
        instant = _wall_to_utc(wall, zone)
        # Skipped: a gap time, or the first occurrence of an overlap time when `after` lies in the
        # repeat (that occurrence is already past; the repeat does not fire again).
        if instant is not None and instant > after_utc:
            return instant.astimezone(zone)
    return None


def is_due(
    cron: Cron,
    last_check: datetime.datetime | None,
    now: datetime.datetime,
    tz: datetime.tzinfo | None = None,
) -> bool:
    """True when a fire time lies in (last_check, now].

    A container seen for the first time (no last_check) is not due: its first window is the next one
    after first sight, as in freshdock. Because the window spans from the persisted last check, any
    run cadence works and a window missed by a late run is caught up exactly once.
    """
    if last_check is None:
        return False
    zone = _resolve_tz(tz, last_check, now)
    fire = next_fire(cron, _localize(last_check, zone), zone)
    if fire is None:
        return False
    return _as_comparable(fire) <= _as_comparable(_localize(now, zone))


def _as_comparable(moment: datetime.datetime) -> datetime.datetime:
    # UTC for aware values (fold-correct ordering); naive values are already plain wall clock.
    return moment if moment.tzinfo is None else moment.astimezone(_UTC)
