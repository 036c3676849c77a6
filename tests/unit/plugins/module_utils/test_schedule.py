"""Cron parsing (freshdock dialect), next-fire evaluation incl. DST, and due-ness across persisted runs."""

from __future__ import annotations

import datetime
import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.freshdock.core.plugins.module_utils.schedule import (
    MODE_DEFAULT_SCHEDULES,
    Cron,
    CronError,
    is_due,
    next_fire,
    parse_cron,
)

UTC = datetime.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(*args, tz=UTC):
    return datetime.datetime(*args, tzinfo=tz)


def nf(expr, after, tz=None):
    return next_fire(parse_cron(expr), after, tz)


# --- parsing: accepted ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "field", "expected"),
    [
        ("*/15 * * * *", "minutes", {0, 15, 30, 45}),
        ("0 9-17 * * 1-5", "hours", set(range(9, 18))),
        ("0 9-17 * * 1-5", "weekdays", {1, 2, 3, 4, 5}),
        ("0 0-23/6 * * *", "hours", {0, 6, 12, 18}),
        ("30 5/6 * * *", "hours", {5, 11, 17, 23}),  # N/n = N..max step n
        ("10/20 * * * *", "minutes", {10, 30, 50}),
        ("1,2,3-5,*/20 * * * *", "minutes", {0, 1, 2, 3, 4, 5, 20, 40}),
        ("0 4 1-31/10 * *", "days", {1, 11, 21, 31}),
        ("0 4 * 2,4-5 *", "months", {2, 4, 5}),
        ("0 4 * * 0", "weekdays", {0}),
        ("0 4 * * 0-6", "weekdays", set(range(7))),
        ("*/100 * * * *", "minutes", {0}),  # a step wider than the range keeps its start
        ("59 23 31 12 6", "minutes", {59}),
        ("00 04 * * *", "hours", {4}),  # leading zeros are plain numbers
    ],
)
def test_parse_field_values(expr, field, expected):
    assert getattr(parse_cron(expr), field) == frozenset(expected)


def test_parse_full_ranges_and_text_normalised():
    cron = parse_cron("  0\t 4   * *  *  ")
    assert cron == Cron(
        minutes=frozenset({0}),
        hours=frozenset({4}),
        days=frozenset(range(1, 32)),
        months=frozenset(range(1, 13)),
        weekdays=frozenset(range(7)),
        dom_star=True,
        dow_star=True,
        text="0 4 * * *",
    )
    assert str(cron) == "0 4 * * *"


def test_star_flags_only_for_a_literal_star():
    # As in freshdock: '*/1' and '1-31' restrict the field (they take part in the DoM/DoW union).
    assert (parse_cron("0 0 */1 * 1").dom_star, parse_cron("0 0 */1 * 1").dow_star) == (False, False)
    assert (parse_cron("0 0 1-31 * *").dom_star, parse_cron("0 0 1-31 * *").dow_star) == (False, True)
    assert (parse_cron("0 0 * * 0-6").dom_star, parse_cron("0 0 * * 0-6").dow_star) == (True, False)


@pytest.mark.parametrize("expr", sorted(MODE_DEFAULT_SCHEDULES.values()))
def test_mode_defaults_parse(expr):
    assert parse_cron(expr).text == expr


# --- parsing: rejected ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "field", "needle"),
    [
        ("", None, "empty"),
        ("   ", None, "empty"),
        ("* * * *", None, "has 4 fields"),
        ("0 0 4 * * *", None, "seconds field"),
        ("* * * * * * *", None, "has 7 fields"),
        ("60 * * * *", "minute", "60 is out of range 0-59"),
        ("0 24 * * *", "hour", "out of range 0-23"),
        ("0 0 0 * *", "day-of-month", "out of range 1-31"),
        ("0 0 32 * *", "day-of-month", "out of range 1-31"),
        ("0 0 * 0 *", "month", "out of range 1-12"),
        ("0 0 * 13 *", "month", "out of range 1-12"),
        ("0 4 * * 7", "day-of-week", "use 0 instead of 7"),
        ("0 4 * * 1-7", "day-of-week", "use 0 instead of 7"),
        ("0 4 * * mon", "day-of-week", "names are not supported"),
        ("0 4 * jan *", "month", "names are not supported"),
        ("*/0 * * * *", "minute", "step 0"),
        ("0 1-5/0 * * *", "hour", "step 0"),
        ("5-1 * * * *", "minute", "reversed; write the smaller value first (1-5)"),
        ("1,,2 * * * *", "minute", "empty list item"),
        (",1 * * * *", "minute", "empty list item"),
        ("1, * * * *", "minute", "empty list item"),
        ("1- * * * *", "minute", "not a number"),
        ("-1 * * * *", "minute", "not a number"),
        ("+5 * * * *", "minute", "not a number"),
        ("1/ * * * *", "minute", "step"),
        ("*/x * * * *", "minute", "step"),
        ("*/-1 * * * *", "minute", "step"),
        ("1-2-3 * * * *", "minute", "not a number"),
        ("** * * * *", "minute", "not a number"),
        ("0 4 ? * *", "day-of-month", "not a number"),
        ("0 4 L * *", "day-of-month", "names are not supported"),
        ("0 4 * * 1#2", "day-of-week", "not a number"),
        ("\u0663 * * * *", "minute", "not a number"),  # a non-ASCII digit int() would take
        ("1_0 * * * *", "minute", "not a number"),
        ("@daily", None, "has 1 fields"),
    ],
)
def test_parse_rejects(expr, field, needle):
    with pytest.raises(CronError) as info:
        parse_cron(expr)
    message = str(info.value)
    assert needle in message
    assert info.value.field == field
    if field is not None:
        assert f"{field} field" in message
    assert isinstance(info.value, ValueError)


def test_parse_rejects_non_string():
    with pytest.raises(CronError, match="must be a string"):
        parse_cron(None)


# --- next_fire -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("0 4 * * *", at(2026, 6, 2, 3, 59), at(2026, 6, 2, 4, 0)),
        ("0 4 * * *", at(2026, 6, 2, 4, 0), at(2026, 6, 3, 4, 0)),  # strictly after
        ("0 4 * * *", at(2026, 6, 2, 3, 59, 59, 999999), at(2026, 6, 2, 4, 0)),
        ("0 4 * * *", at(2026, 6, 2, 4, 0, 30), at(2026, 6, 3, 4, 0)),  # whole minutes only
        ("*/15 * * * *", at(2026, 6, 2, 10, 7), at(2026, 6, 2, 10, 15)),
        ("*/15 * * * *", at(2026, 6, 2, 10, 45), at(2026, 6, 2, 11, 0)),
        ("* * * * *", at(2026, 12, 31, 23, 59), at(2027, 1, 1, 0, 0)),
        ("0 4 * * 0", at(2026, 6, 3, 12, 0), at(2026, 6, 7, 4, 0)),  # Wednesday -> Sunday
        ("0 4 1 * *", at(2026, 1, 31, 5, 0), at(2026, 2, 1, 4, 0)),
        ("0 4 1 * *", at(2026, 12, 20, 0, 0), at(2027, 1, 1, 4, 0)),
        ("0 9-17 * * 1-5", at(2026, 6, 1, 8, 30), at(2026, 6, 1, 9, 0)),
        ("0 9-17 * * 1-5", at(2026, 6, 5, 17, 30), at(2026, 6, 8, 9, 0)),  # Friday evening -> Monday
        ("30 5/6 * * *", at(2026, 6, 1, 17, 31), at(2026, 6, 1, 23, 30)),
        ("0,30 8,20 * * *", at(2026, 6, 1, 8, 30), at(2026, 6, 1, 20, 0)),
        ("0 0 31 * *", at(2026, 4, 1, 0, 0), at(2026, 5, 31, 0, 0)),  # April has no 31st
        # Both DoM and DoW restricted: union. June 2026 Fridays are 5, 12, 19, 26; the 13th is a Saturday.
        ("0 0 13 * 5", at(2026, 6, 1, 0, 0), at(2026, 6, 5, 0, 0)),
        ("0 0 13 * 5", at(2026, 6, 12, 12, 0), at(2026, 6, 13, 0, 0)),
        # One side '*': only the other side constrains.
        ("0 0 13 * *", at(2026, 6, 1, 0, 0), at(2026, 6, 13, 0, 0)),
        ("0 0 * * 5", at(2026, 6, 5, 0, 0), at(2026, 6, 12, 0, 0)),
        # '*/2' is not '*': union with Monday (June 2026: the 1st is a Monday, odd days match */2).
        ("0 0 */2 * 1", at(2026, 6, 3, 12, 0), at(2026, 6, 5, 0, 0)),
        ("0 0 */2 * 1", at(2026, 6, 7, 12, 0), at(2026, 6, 8, 0, 0)),
        # Leap day from non-leap years, and from just after one (the worst case of the horizon).
        ("0 0 29 2 *", at(2025, 3, 1, 0, 0), at(2028, 2, 29, 0, 0)),
        ("0 0 29 2 *", at(2024, 2, 29, 0, 0), at(2028, 2, 29, 0, 0)),
        ("0 0 29 2 *", at(2027, 12, 31, 0, 0), at(2028, 2, 29, 0, 0)),
        # Impossible dates never fire.
        ("0 0 30 2 *", at(2026, 1, 1, 0, 0), None),
        ("0 0 31 2,4,6,9,11 *", at(2026, 1, 1, 0, 0), None),
        # ...unless the weekday side of the union rescues them (Mondays in February).
        ("0 0 30 2 1", at(2026, 1, 1, 0, 0), at(2026, 2, 2, 0, 0)),
    ],
)
def test_next_fire_vectors(expr, after, expected):
    assert nf(expr, after) == expected


def test_next_fire_naive_in_naive_out():
    assert nf("0 4 * * *", datetime.datetime(2026, 6, 2, 5, 0)) == datetime.datetime(2026, 6, 3, 4, 0)


def test_next_fire_converts_to_the_given_zone():
    # 02:00 UTC is 04:00 in Berlin (CEST): the result is an aware Berlin time.
    result = nf("0 4 * * *", at(2026, 6, 2, 1, 0), BERLIN)
    assert result == at(2026, 6, 2, 2, 0)
    assert result.tzinfo is BERLIN
    assert (result.hour, result.minute) == (4, 0)
    # A naive `after` with a zone is a wall-clock time in that zone.
    assert nf("0 4 * * *", datetime.datetime(2026, 6, 2, 3, 0), BERLIN) == at(2026, 6, 2, 4, 0, tz=BERLIN)
    # Without a zone argument an aware `after` brings its own.
    assert nf("0 4 * * *", at(2026, 6, 2, 3, 0, tz=NEW_YORK)).tzinfo is NEW_YORK


def test_dst_gap_europe_berlin():
    # 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 does not exist that day and fires the next.
    assert nf("30 2 * * *", at(2026, 3, 28, 12, 0, tz=BERLIN)) == at(2026, 3, 30, 2, 30, tz=BERLIN)
    result = nf("30 3 * * *", at(2026, 3, 29, 0, 0, tz=BERLIN))
    assert result == at(2026, 3, 29, 1, 30)  # 03:30 CEST
    assert (result.hour, result.minute, result.utcoffset()) == (3, 30, datetime.timedelta(hours=2))
    # Every-minute schedules jump straight over the missing hour.
    assert nf("* * * * *", at(2026, 3, 29, 1, 59, tz=BERLIN)) == at(2026, 3, 29, 1, 0)  # 03:00 CEST


def test_dst_overlap_europe_berlin_fires_once():
    # 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice in real time; it fires at the first.
    first = nf("30 2 * * *", at(2026, 10, 25, 0, 0, tz=BERLIN))
    # PEP 495: an inter-zone == is always False for a time in the fold, so compare in UTC.
    assert first.astimezone(UTC) == at(2026, 10, 25, 0, 30)  # 02:30 CEST
    assert (first.hour, first.minute, first.fold) == (2, 30, 0)
    assert nf("30 2 * * *", first) == at(2026, 10, 26, 2, 30, tz=BERLIN)  # not the 02:30 CET repeat
    # Asked from inside the repeated hour (02:10 CET), the repeat is not a new fire.
    inside_repeat = at(2026, 10, 25, 1, 10).astimezone(BERLIN)
    assert inside_repeat.fold == 1
    assert nf("30 2 * * *", inside_repeat) == at(2026, 10, 26, 2, 30, tz=BERLIN)


def test_dst_america_new_york():
    # Spring forward 2026-03-08 02:00 EST -> 03:00 EDT.
    assert nf("30 2 * * *", at(2026, 3, 7, 12, 0, tz=NEW_YORK)) == at(2026, 3, 9, 2, 30, tz=NEW_YORK)
    assert nf("0 3 * * *", at(2026, 3, 8, 0, 0, tz=NEW_YORK)) == at(2026, 3, 8, 7, 0)  # 03:00 EDT
    # Fall back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 fires once, at 01:30 EDT.
    first = nf("30 1 * * *", at(2026, 11, 1, 0, 0, tz=NEW_YORK))
    assert first.astimezone(UTC) == at(2026, 11, 1, 5, 30)
    assert nf("30 1 * * *", first) == at(2026, 11, 2, 1, 30, tz=NEW_YORK)
    # A half-hourly schedule walks wall-clock times: the repeated 01:00/01:30 EST do not fire again.
    fires, moment = [], at(2026, 11, 1, 0, 45, tz=NEW_YORK)
    for _step in range(4):
        moment = nf("*/30 * * * *", moment)
        fires.append(moment.astimezone(UTC))
    assert fires == [at(2026, 11, 1, 5, 0), at(2026, 11, 1, 5, 30), at(2026, 11, 1, 7, 0), at(2026, 11, 1, 7, 30)]


@pytest.mark.parametrize("tz", [None, UTC, BERLIN, NEW_YORK])
@pytest.mark.parametrize("expr", ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "* * 31 2 *"])
def test_never_firing_cron_is_fast(expr, tz):
    cron = parse_cron(expr)
    started = time.perf_counter()
    assert next_fire(cron, datetime.datetime(2026, 1, 1, tzinfo=tz)) is None
    assert time.perf_counter() - started < 0.05


def test_sparse_cron_is_fast():
    cron = parse_cron("59 23 29 2 *")
    started = time.perf_counter()
    assert next_fire(cron, at(2024, 3, 1, 0, 0, tz=BERLIN)) == at(2028, 2, 29, 23, 59, tz=BERLIN)
    assert time.perf_counter() - started < 0.05


def test_matches_uses_local_fields_and_the_union_rule():
    cron = parse_cron("0 4 13 * 5")
    assert cron.matches(datetime.datetime(2026, 6, 13, 4, 0))  # the 13th (a Saturday)
    assert cron.matches(datetime.datetime(2026, 6, 5, 4, 0))  # a Friday
    assert not cron.matches(datetime.datetime(2026, 6, 6, 4, 0))
    assert not cron.matches(datetime.datetime(2026, 6, 5, 4, 1))
    assert cron.matches(at(2026, 6, 5, 4, 0, tz=BERLIN))


# --- is_due across simulated runs ------------------------------------------------------------------


def simulate(cron_text, runs, last_check=None, tz=None):
    """Run at each instant, persisting last_check like the role does; return the due run instants."""
    cron = parse_cron(cron_text)
    due = []
    for now in runs:
        if is_due(cron, last_check, now, tz):
            due.append(now)
        last_check = now
    return due


def hourly(start, hours, tz):
    # Consecutive real hours (UTC arithmetic), as a cron/timer-driven runner would produce.
    first = start.astimezone(UTC)
    return [(first + datetime.timedelta(hours=index)).astimezone(tz) for index in range(hours)]


def test_first_sight_is_not_due():
    assert not is_due(parse_cron("* * * * *"), None, at(2026, 6, 1, 4, 0))


def test_hourly_runs_over_a_day_are_due_once():
    runs = hourly(at(2026, 6, 1, 0, 17, tz=BERLIN), 48, BERLIN)
    due = simulate("0 4 * * *", runs, last_check=at(2026, 5, 31, 23, 17, tz=BERLIN))
    assert due == [at(2026, 6, 1, 4, 17, tz=BERLIN), at(2026, 6, 2, 4, 17, tz=BERLIN)]


def test_window_bounds_are_open_then_closed():
    cron = parse_cron("0 4 * * *")
    assert is_due(cron, at(2026, 6, 1, 3, 59), at(2026, 6, 1, 4, 0))  # fire time == now counts
    assert not is_due(cron, at(2026, 6, 1, 4, 0), at(2026, 6, 1, 5, 0))  # fire time == last_check does not
    assert not is_due(cron, at(2026, 6, 1, 4, 0), at(2026, 6, 1, 4, 0))
    assert not is_due(cron, at(2026, 6, 1, 5, 0), at(2026, 6, 1, 3, 0))  # clock went backwards


def test_missed_window_is_caught_up_once():
    # Host down from Monday 03:00 to Wednesday 10:00: two windows missed, one catch-up run.
    due = simulate("0 4 * * *", [at(2026, 6, 3, 10, 0), at(2026, 6, 3, 11, 0), at(2026, 6, 3, 12, 0)], at(2026, 6, 1, 3, 0))
    assert due == [at(2026, 6, 3, 10, 0)]


def test_first_sight_then_next_window():
    runs = hourly(at(2026, 6, 1, 2, 30), 30, UTC)
    assert simulate("0 4 * * *", runs) == [at(2026, 6, 1, 4, 30), at(2026, 6, 2, 4, 30)]


def test_runs_across_the_berlin_transitions():
    # Every 20 minutes over the spring-forward day: 02:30 does not exist, so nothing is due.
    spring = [(at(2026, 3, 28, 23, 0) + datetime.timedelta(minutes=20 * index)).astimezone(BERLIN) for index in range(72)]
    assert simulate("30 2 * * *", spring, tz=BERLIN) == []
    # Over the fall-back day 02:30 happens twice in real time but is due once.
    autumn = [(at(2026, 10, 24, 22, 0) + datetime.timedelta(minutes=20 * index)).astimezone(BERLIN) for index in range(72)]
    due = simulate("30 2 * * *", autumn, tz=BERLIN)
    assert [moment.astimezone(UTC) for moment in due] == [at(2026, 10, 25, 0, 40)]


def test_persisted_utc_last_check_with_local_schedule():
    # last_check stored in UTC, schedule evaluated in New York: 04:00 EDT is 08:00 UTC.
    cron = parse_cron("0 4 * * *")
    assert not is_due(cron, at(2026, 6, 1, 7, 0), at(2026, 6, 1, 7, 59), NEW_YORK)
    assert is_due(cron, at(2026, 6, 1, 7, 0), at(2026, 6, 1, 8, 0), NEW_YORK)


def test_naive_runs_without_zone():
    runs = [datetime.datetime(2026, 6, 1, hour, 5) for hour in range(24)]
    assert simulate("0 4 * * *", runs) == [datetime.datetime(2026, 6, 1, 4, 5)]


def test_impossible_cron_is_never_due():
    assert not is_due(parse_cron("0 0 30 2 *"), at(2026, 1, 1, 0, 0), at(2030, 1, 1, 0, 0))


# --- property: next_fire is the first matching minute -------------------------------------------------

ZONES = (UTC, BERLIN, NEW_YORK)


def _field(values, low, high, allow_star=True):
    choices = [st.sets(st.sampled_from(values), min_size=1, max_size=3).map(lambda picked: ",".join(map(str, sorted(picked))))]
    choices.append(st.integers(low, high).flatmap(lambda start: st.integers(start, high).map(lambda end: f"{start}-{end}")))
    if allow_star:
        choices.append(st.just("*"))
        choices.append(st.integers(1, 12).map(lambda step: f"*/{step}"))
    return st.one_of(choices)


@st.composite
def dense_crons(draw):
    # Dense enough that the brute-force oracle below walks at most about a week of minutes:
    # day-of-month is only restricted together with day-of-week (their union fires weekly).
    minute = draw(_field(range(60), 0, 59))
    hour = draw(_field(range(24), 0, 23))
    dow = draw(st.one_of(st.just("*"), _field(range(7), 0, 6, allow_star=False)))
    dom = "*" if dow == "*" else draw(st.one_of(st.just("*"), _field(range(1, 32), 1, 31, allow_star=False)))
    return f"{minute} {hour} {dom} * {dow}"


instants = st.datetimes(
    min_value=datetime.datetime(2024, 1, 1), max_value=datetime.datetime(2030, 12, 31), timezones=st.just(UTC)
)
# Half the examples land next to a DST transition, where the interesting cases are.
transition_instants = st.sampled_from(
    [at(2026, 3, 29, 0, 0), at(2026, 10, 25, 0, 0), at(2026, 3, 8, 6, 0), at(2026, 11, 1, 4, 0)]
).flatmap(lambda base: st.integers(-180, 240).map(lambda minutes: base + datetime.timedelta(minutes=minutes, seconds=13)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=dense_crons(), after=st.one_of(instants, transition_instants), tz=st.sampled_from(ZONES))
def test_next_fire_is_the_first_matching_minute(expr, after, tz):
    cron = parse_cron(expr)
    result = next_fire(cron, after, tz)
    assert result is not None
    result_utc = result.astimezone(UTC)
    assert result_utc > after
    assert (result.second, result.microsecond) == (0, 0)
    local = result_utc.astimezone(tz)
    assert cron.matches(local)
    assert local.fold == 0  # never the repeat of a fall-back hour
    # Oracle: step every real minute in between; none may show a matching first-occurrence wall time.
    moment = after.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    while moment < result_utc:
        wall = moment.astimezone(tz)
        assert not (cron.matches(wall) and wall.fold == 0), (expr, after, tz, moment)
        moment += datetime.timedelta(minutes=1)
