"""Due-date rules: parsing, offsets before and after an anchor, leap days and daylight-saving days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learning.guards import FIRST_DAY, LAST_DAY
from learning.training.due import ANCHORS, START_GRACE_DAYS, DueRule

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("text", "expected"), [
    ("start+14", DueRule(anchor="start", days=14)),
    ("golive-7", DueRule(anchor="golive", days=-7)),
    ("assigned+30", DueRule(anchor="assigned", days=30)),
    ("start+0", DueRule(anchor="start", days=0)),
    ("start-0", DueRule(anchor="start", days=0)),
    ("  START + 14 ", DueRule(anchor="start", days=14)),
    ("golive-9999", DueRule(anchor="golive", days=-9999)),
    ("2026-06-30", DueRule(anchor=None, fixed=date(2026, 6, 30))),
    ("2028-02-29", DueRule(anchor=None, fixed=date(2028, 2, 29))),
])
def test_valid_rules_parse(text, expected):
    assert DueRule.parse(text) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "start", "start+", "+14", "start+12345", "start*3", "begin+3", "tomorrow", "14",
    "2026-02-30", "2026-02-29", "31.12.2026", "2026/06/30", "start+1.5", "golive -", None,
])
def test_invalid_rules_are_refused_with_an_explanation(text):
    with pytest.raises(ValueError, match="neither a date"):
        DueRule.parse(text)


def test_negative_offsets_fall_before_the_anchor():
    rule = DueRule.parse("start-3")
    assert rule.due_on(start=date(2026, 9, 1), go_live=None, assigned=date(2026, 8, 1)) == date(2026, 8, 29)
    assert DueRule.parse("golive-7").due_on(start=None, go_live=date(2026, 7, 1), assigned=date(2026, 1, 1)) == \
        date(2026, 6, 24)
    assert DueRule.parse("assigned-1").due_on(start=None, go_live=None, assigned=date(2026, 1, 1)) == \
        date(2025, 12, 31)


def test_each_anchor_is_used_and_a_missing_anchor_gives_no_due_date():
    days = {"start": date(2026, 5, 1), "go_live": date(2026, 6, 1), "assigned": date(2026, 4, 1)}
    assert DueRule.parse("start+1").due_on(**days) == date(2026, 5, 2)
    assert DueRule.parse("golive+1").due_on(**days) == date(2026, 6, 2)
    assert DueRule.parse("assigned+1").due_on(**days) == date(2026, 4, 2)
    assert DueRule.parse("start+1").due_on(start=None, go_live=None, assigned=date(2026, 4, 1)) is None
    assert DueRule.parse("golive+1").due_on(start=date(2026, 5, 1), go_live=None, assigned=date(2026, 4, 1)) is None
    # A fixed date needs no anchor.
    assert DueRule.parse("2026-06-30").due_on(start=None, go_live=None, assigned=date(2026, 4, 1)) == \
        date(2026, 6, 30)


@pytest.mark.parametrize(("anchor", "rule", "expected"), [
    (date(2028, 2, 28), "start+1", date(2028, 2, 29)),  # leap year
    (date(2027, 2, 28), "start+1", date(2027, 3, 1)),  # common year
    (date(2028, 2, 29), "start+1", date(2028, 3, 1)),
    (date(2024, 2, 29), "start+365", date(2025, 2, 28)),
    (date(2024, 2, 29), "start+366", date(2025, 3, 1)),
    (date(2028, 3, 1), "start-1", date(2028, 2, 29)),
    (date(2100, 2, 28), "start+1", date(2100, 3, 1)),  # 2100 is no leap year
    (date(2000, 2, 28), "start+1", date(2000, 2, 29)),  # 2000 is one
])
def test_leap_days(anchor, rule, expected):
    assert DueRule.parse(rule).due_on(start=anchor, go_live=None, assigned=anchor) == expected


def _is_dst_change(day: date) -> bool:
    return datetime.combine(day, time(0), BERLIN).utcoffset() != datetime.combine(day, time(23), BERLIN).utcoffset()


@pytest.mark.parametrize(("anchor", "rule", "expected"), [
    (date(2026, 3, 28), "start+1", date(2026, 3, 29)),  # summer time begins on 29 March 2026
    (date(2026, 3, 29), "start-1", date(2026, 3, 28)),
    (date(2026, 3, 29), "start+0", date(2026, 3, 29)),
    (date(2026, 3, 28), "start+2", date(2026, 3, 30)),
    (date(2026, 10, 24), "start+1", date(2026, 10, 25)),  # winter time begins on 25 October 2026
    (date(2026, 10, 25), "start+1", date(2026, 10, 26)),
    (date(2026, 10, 26), "start-2", date(2026, 10, 24)),
])
def test_a_due_date_is_a_calendar_date_across_daylight_saving_changes(anchor, rule, expected):
    assert _is_dst_change(date(2026, 3, 29)) and _is_dst_change(date(2026, 10, 25))
    assert DueRule.parse(rule).due_on(start=anchor, go_live=None, assigned=anchor) == expected


def test_the_string_form_is_canonical():
    assert str(DueRule.parse("  Start + 014 ")) == "start+14"
    assert str(DueRule.parse("golive-7")) == "golive-7"
    assert str(DueRule.parse("start-0")) == "start+0"
    assert str(DueRule.parse("2026-06-30")) == "2026-06-30"


days_strategy = st.integers(min_value=-9999, max_value=9999)
dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31))
relative_rules = st.builds(DueRule, anchor=st.sampled_from(ANCHORS), days=days_strategy)
platform_days = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)  # a fixed due date outside is refused
fixed_rules = st.builds(lambda day: DueRule(anchor=None, fixed=day), platform_days)


@given(anchor_day=dates, days=days_strategy, anchor=st.sampled_from(ANCHORS))
def test_due_date_minus_anchor_is_the_offset(anchor_day, days, anchor):
    rule = DueRule(anchor=anchor, days=days)
    other = date(2000, 1, 1)
    kwargs = {"start": other, "go_live": other, "assigned": other}
    kwargs[{"start": "start", "golive": "go_live", "assigned": "assigned"}[anchor]] = anchor_day
    assert rule.due_on(**kwargs) - anchor_day == timedelta(days=days)


@given(rule=st.one_of(relative_rules, fixed_rules))
def test_parsing_the_string_form_gives_the_rule_back(rule):
    assert DueRule.parse(str(rule)) == rule


@given(anchor_day=dates, first=st.integers(-500, 500), second=st.integers(-500, 500))
def test_offsets_add_up(anchor_day, first, second):
    once = DueRule(anchor="start", days=first).due_on(start=anchor_day, go_live=None, assigned=anchor_day)
    twice = DueRule(anchor="start", days=second).due_on(start=once, go_live=None, assigned=once)
    assert twice == DueRule(anchor="start", days=first + second).due_on(start=anchor_day, go_live=None,
                                                                        assigned=anchor_day)


@given(day=platform_days, anchor_day=dates)
def test_a_fixed_date_ignores_every_anchor(day, anchor_day):
    rule = DueRule.parse(day.isoformat())
    assert rule.due_on(start=anchor_day, go_live=anchor_day, assigned=anchor_day) == day
    assert rule.due_on(start=None, go_live=None, assigned=anchor_day) == day


@given(text=st.text(max_size=20))
def test_parsing_never_fails_other_than_with_value_error(text):
    try:
        rule = DueRule.parse(text)
    except ValueError:
        return
    assert DueRule.parse(str(rule)) == rule


# Nothing is due before the first working day (issue 14, §11) ---------------------------------------------------

@pytest.mark.parametrize(("rule", "start", "go_live", "assigned", "expected"), [
    ("golive-14", date(2026, 12, 14), date(2026, 12, 27), date(2026, 12, 7), date(2026, 12, 28)),  # jalbers
    ("start-7", date(2026, 9, 1), None, date(2026, 8, 1), date(2026, 9, 15)),
    ("2026-06-30", date(2026, 9, 1), None, date(2026, 8, 1), date(2026, 9, 15)),
    ("assigned+3", date(2026, 9, 1), None, date(2026, 8, 1), date(2026, 9, 15)),
    ("start+0", date(2026, 9, 1), None, date(2026, 8, 1), date(2026, 9, 1)),  # the first day itself is fine
    ("golive-14", date(2026, 1, 5), date(2026, 12, 27), date(2026, 12, 7), date(2026, 12, 13)),  # long-serving
    ("golive-14", None, date(2026, 12, 27), date(2026, 12, 7), date(2026, 12, 13)),  # no start date known
    ("golive+1", date(2026, 1, 5), None, date(2026, 12, 7), None),  # no anchor, no date
])
def test_a_rule_date_before_the_start_date_moves_to_the_grace_period_after_it(rule, start, go_live, assigned,
                                                                              expected):
    assert START_GRACE_DAYS == 14
    assert DueRule.parse(rule).due_for(start=start, go_live=go_live, assigned=assigned) == expected


@given(rule=st.one_of(relative_rules, fixed_rules), start=dates, other=dates)
def test_nothing_is_ever_due_before_the_first_working_day(rule, start, other):
    due = rule.due_for(start=start, go_live=other, assigned=other)
    assert due is None or due >= start
    plain = rule.due_on(start=start, go_live=other, assigned=other)
    assert due == (plain if plain is None or plain >= start else start + timedelta(days=START_GRACE_DAYS))
