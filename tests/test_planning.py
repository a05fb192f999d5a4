"""The planner on plain data, against dates worked out by hand (factory time, Asia/Shanghai).

The plant works 08:00-12:00 and 13:00-17:30 (8.5 h a day) unless a case says otherwise. Week of
the cases: Wed 2026-11-25, Thu 26, Fri 27, Sat 28, Sun 29, Mon 30. chinese-calendar: National Day
2026-10-01..07 off, Saturday 2026-10-10 a make-up working day.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from planning.calendar import CLOSED, EXTRA, HOURS, DayRule, WorkCalendar, parse_spans
from planning.cause import delay_of
from planning.impact import pushed_orders
from planning.model import OrderState, StepState, Workload, to_ts
from planning.plan import build_plan, retime

TZ = "Asia/Shanghai"
DAY = parse_spans(["08:00-12:00", "13:00-17:30"])
HOUR = 3600


def at(month: int, day: int, hh: int, mm: int = 0, year: int = 2026) -> datetime:
    """Factory time → naive UTC (what the planner and the database use)."""
    return datetime(year, month, day, hh, mm) - timedelta(hours=8)


def cal(**kwargs) -> WorkCalendar:
    return WorkCalendar(TZ, kwargs.pop("shifts", DAY), **kwargs)


def ts(when: datetime) -> float:
    return to_ts(when)


def step(id_, seq, ws, qty, rate, status=None, **kw) -> StepState:
    return StepState(id=id_, seq=seq, workshop_id=ws, status=status or ("ready" if seq == 1 else "waiting"),
                     planned_qty=qty, std_rate=rate, **kw)


def order(id_, no, steps, priority=3, due=date(2026, 11, 27), **kw) -> OrderState:
    return OrderState(id=id_, order_no=no, priority=priority, due_date=due, steps=tuple(steps), **kw)


def plan_of(orders, now, calendar=None, capacity=None, outage_hours=2):
    return build_plan(Workload(tuple(orders), capacity or {}), calendar or cal(), now, outage_hours * HOUR)


# -- working time ---------------------------------------------------------------------------------
@pytest.mark.parametrize("start, hours, expected, why", [
    (at(11, 25, 11), 2, at(11, 25, 14), "the lunch break is not working time"),
    (at(11, 25, 8), 8.5, at(11, 25, 17, 30), "a whole day ends at the end of the shift, not next morning"),
    (at(11, 27, 16), 3, at(11, 30, 9, 30), "Friday 1.5 h, the weekend off, Monday 1.5 h"),
    (at(9, 30, 9), 10, at(10, 8, 10, 30), "7.5 h on 09-30, National Day 10-01..07 off, 2.5 h on 10-08"),
    (at(10, 9, 16), 3, at(10, 10, 9, 30), "Saturday 10-10 is a make-up working day"),
    (at(11, 25, 22, 11), 1, at(11, 26, 9), "from 22:11 the next working hour is 08:00-09:00"),
])
def test_working_time_arithmetic(start, hours, expected, why):
    tl = cal().timeline(1)
    assert tl.add(tl.snap(ts(start)), hours * HOUR) == ts(expected), why


def test_two_shifts_and_a_night_shift():
    two = cal(workshop_shifts={2: parse_spans(["06:00-14:00", "14:00-22:00"])})
    # 20:00 Friday + 4 h: 2 h until 22:00, then Monday 06:00-08:00
    assert two.timeline(2).add(ts(at(11, 27, 20)), 4 * HOUR) == ts(at(11, 30, 8))
    assert two.timeline(1).add(ts(at(11, 27, 16)), 3 * HOUR) == ts(at(11, 30, 9, 30))  # others keep the plant's
    night = cal(shifts=parse_spans(["22:00-06:00"]))
    assert night.timeline(None).add(ts(at(11, 25, 23)), 2 * HOUR) == ts(at(11, 26, 1))
    assert two.day_hours(2) == 16 and two.day_hours(1) == 8.5


def test_the_plants_own_days_layer_over_the_public_calendar():
    rules = [DayRule(date(2026, 11, 26), None, CLOSED, note="停电"),                       # the plant closes Thursday
             DayRule(date(2026, 11, 28), 1, HOURS, parse_spans(["08:00-17:00"])),         # stamping works Saturday
             DayRule(date(2026, 11, 27), 2, EXTRA, parse_spans(["17:30-20:30"]))]         # welding overtime Friday
    c = cal(rules=rules)
    assert not c.is_workday(date(2026, 11, 26), 1) and not c.is_workday(date(2026, 11, 26), 2)
    assert c.spans(date(2026, 11, 28), 1) == parse_spans(["08:00-17:00"]) and not c.is_workday(date(2026, 11, 28), 2)
    assert c.spans(date(2026, 11, 27), 2) == parse_spans(["08:00-12:00", "13:00-20:30"])
    # stamping: Wed 16:00 + 5 h = Wed 1.5 h, Thu closed, Fri 8.5 h covers the rest: Fri 11:30
    assert c.timeline(1).add(ts(at(11, 25, 16)), 5 * HOUR) == ts(at(11, 27, 11, 30))


def test_a_year_without_public_holiday_data_is_provisional_not_silent():
    c = cal()
    assert c.year_known(2026) and not c.year_known(2027)
    assert c.provisional(date(2027, 2, 10)) and not c.provisional(date(2026, 12, 31))
    assert c.is_workday(date(2027, 2, 10))   # counted Monday to Friday meanwhile: hence provisional
    confirmed = cal(confirmed_years=[2027], rules=[DayRule(date(2027, 2, 10), None, CLOSED, note="春节")])
    assert not confirmed.provisional(date(2027, 2, 10)) and not confirmed.is_workday(date(2027, 2, 10))


# -- planned dates: back from the due date --------------------------------------------------------
def test_planned_dates_are_working_time_back_from_the_due_date():
    p = plan_of([order(1, "SO-1", [step(11, 1, 1, 100, 50), step(12, 2, 2, 100, 25)], due=date(2026, 11, 30)),
                 order(2, "SO-2", [step(21, 1, 1, 100, 50), step(22, 2, 2, 250, 25)], due=date(2026, 11, 30)),
                 order(3, "SO-3", [step(31, 1, 1, 50, 50)], due=date(2026, 11, 29))], at(11, 25, 9))
    so1, so2, so3 = p.orders[1], p.orders[2], p.orders[3]
    assert so1.due_at == at(11, 30, 17, 30)
    assert (so1.steps[1].planned_start, so1.steps[1].planned_end) == (at(11, 30, 13, 30), at(11, 30, 17, 30))
    assert (so1.steps[0].planned_start, so1.steps[0].planned_end) == (at(11, 30, 10, 30), at(11, 30, 13, 30))
    # 10 h of welding reach back over the weekend to Friday 16:00; stamping 2 h before that
    assert so2.steps[1].planned_start == at(11, 27, 16) and so2.steps[0].planned_start == at(11, 27, 14)
    assert so3.due_at == at(11, 27, 17, 30)   # due on a Sunday: the last working moment before it


# -- the forecast: finite capacity, the route, partial batches, incidents ----------------------------
def test_each_workshop_runs_its_queue_by_priority_and_the_route_feeds_the_next():
    p = plan_of([order(1, "SO-1", [step(11, 1, 1, 100, 50), step(12, 2, 2, 100, 25)], priority=2),
                 order(2, "SO-2", [step(21, 1, 1, 100, 50), step(22, 2, 2, 100, 25)], priority=1)], at(11, 25, 9))
    s = p.steps()
    assert (s[21].forecast_start, s[21].forecast_end) == (at(11, 25, 9), at(11, 25, 11))     # P1 first
    assert (s[11].forecast_start, s[11].forecast_end) == (at(11, 25, 11), at(11, 25, 14))    # then P2, over lunch
    assert (s[22].forecast_start, s[22].forecast_end) == (at(11, 25, 11), at(11, 25, 16))    # welding as parts come
    assert (s[12].forecast_start, s[12].forecast_end) == (at(11, 25, 16), at(11, 26, 10, 30))  # behind SO-2's
    assert p.orders[1].forecast_end == at(11, 26, 10, 30) and not p.orders[1].late


@pytest.mark.parametrize("lines, b_end", [(1, at(11, 25, 14)), (2, at(11, 25, 11))])
def test_capacity_one_line_or_two(lines, b_end):
    p = plan_of([order(1, "SO-A", [step(11, 1, 1, 100, 50)], priority=1),
                 order(2, "SO-B", [step(21, 1, 1, 100, 50)], priority=2)], at(11, 25, 9), capacity={1: lines})
    assert p.steps()[11].forecast_end == at(11, 25, 11)
    assert p.steps()[21].forecast_end == b_end


def test_a_partial_handoff_lets_the_next_step_start_on_part_of_the_batch():
    # stamping handed 120 of 240 to welding, which received them; 120 left to stamp at 60/h (2 h);
    # welding (40/h) does the 120 it has in 3 h, then the other 120 when stamping is done
    p = plan_of([order(1, "SO-1", [step(11, 1, 1, 240, 60, "running", good=120, first_report_at=at(11, 25, 8, 50)),
                                   step(12, 2, 2, 240, 40, "ready", received=120)])], at(11, 25, 9))
    s = p.steps()
    assert s[11].forecast_end == at(11, 25, 11)
    assert (s[12].forecast_start, s[12].forecast_end) == (at(11, 25, 9), at(11, 25, 16))  # 09-12, then 13-16


def test_a_blocked_step_waits_for_its_recovery_and_so_does_everything_after_it():
    blocked = step(11, 1, 1, 100, 50, "blocked", recovery=at(11, 25, 14))
    p = plan_of([order(1, "SO-1", [blocked, step(12, 2, 2, 100, 25)])], at(11, 25, 9))
    s = p.steps()
    assert (s[11].forecast_start, s[11].forecast_end) == (at(11, 25, 14), at(11, 25, 16))
    assert (s[12].forecast_start, s[12].forecast_end) == (at(11, 25, 16), at(11, 26, 10, 30))
    unknown = plan_of([order(1, "SO-1", [step(11, 1, 1, 100, 50, "blocked")])], at(11, 25, 9), outage_hours=2)
    assert unknown.steps()[11].forecast_end == at(11, 25, 14)  # starts after an assumed 2 h: 11:00, +2 h over lunch


def test_actual_rate_forecasts_once_there_is_half_an_hour_of_reporting():
    running = step(11, 1, 1, 200, 25, "running", good=100, first_report_at=at(11, 25, 8))
    assert plan_of([order(1, "SO-1", [running])], at(11, 25, 10)).steps()[11].forecast_end == at(11, 25, 12)
    fresh = step(11, 1, 1, 200, 25, "running", good=10, first_report_at=at(11, 25, 9, 50))
    # ten minutes of reporting say little: 190 left at the standard 25/h is 7.6 h, 6.5 of them today
    assert plan_of([order(1, "SO-1", [fresh])], at(11, 25, 10)).steps()[11].forecast_end == at(11, 26, 9, 6)


def test_a_report_at_2211_forecasts_only_working_time():
    running = step(11, 1, 1, 200, 25, "running", good=150, first_report_at=at(11, 25, 8))
    p = plan_of([order(1, "SO-1", [running, step(12, 2, 2, 200, 50)])], at(11, 25, 22, 11))
    s = p.steps()
    assert s[11].forecast_end == at(11, 26, 10, 50)    # 50 left at 150 per 8.5 h: 2 h 50 min from 08:00
    assert s[12].forecast_start == at(11, 26, 10, 50)
    for sp in s.values():
        for when in (sp.forecast_start, sp.forecast_end):
            local = when + timedelta(hours=8)
            assert local.weekday() < 5 and (8 <= local.hour < 12 or 13 <= local.hour < 17 or
                                            (local.hour, local.minute) in ((12, 0), (17, 30)))


def test_no_step_is_forecast_to_finish_before_the_step_that_feeds_it():
    rng = random.Random(7)
    orders = []
    for i in range(60):
        progress = rng.randint(0, 3)
        steps = []
        for k in range(4):
            status = "done" if k < progress else ("running" if k == progress and rng.random() < .5 else None)
            steps.append(step(i * 10 + k, k + 1, k + 1, 100, rng.choice([20.0, 50.0, 90.0]), status,
                              good=100 if status == "done" else (30 if status == "running" else 0),
                              received=100 if 0 < k <= progress else (rng.choice([0, 40]) if k == progress + 1 else 0),
                              first_report_at=at(11, 25, 8) if status else None,
                              completed_at=at(11, 25, 8) if status == "done" else None))
        orders.append(order(i, f"SO-{i:03d}", steps, priority=rng.randint(1, 5), due=date(2026, 12, rng.randint(1, 20))))
    p = plan_of(orders, at(11, 25, 9, 17), capacity={2: 2})
    for o in p.orders.values():
        ends = [s.fe for s in o.steps if s.fs is not None]
        assert ends == sorted(ends), o.order_no
        assert o.forecast_end == max(s.forecast_end for s in o.steps)


def test_retime_after_a_report_keeps_the_queue_place_and_the_route():
    orders = [order(1, "SO-1", [step(11, 1, 1, 100, 50), step(12, 2, 2, 100, 25)], priority=2),
              order(2, "SO-2", [step(21, 1, 1, 100, 50), step(22, 2, 2, 100, 25)], priority=1)]
    full = plan_of(orders, at(11, 25, 9))
    starts = {k: v.forecast_start for k, v in full.steps().items()}
    slots = retime(orders[0], starts, cal(), at(11, 25, 9), 2 * HOUR)
    assert slots == {11: (ts(at(11, 25, 11)), ts(at(11, 25, 14)), None), 12: (ts(at(11, 25, 16)), ts(at(11, 26, 10, 30)), None)}
    # SO-1's stamping reports 50 at 10:00, 100/h since 09:30: it runs now and ends at 10:30; its
    # welding keeps its place behind SO-2's (16:00), which only the whole plan may change
    reported = orders[0].with_steps([step(11, 1, 1, 100, 50, "running", good=50, first_report_at=at(11, 25, 9, 30)),
                                     orders[0].steps[1]])
    slots = retime(reported, starts, cal(), at(11, 25, 10), 2 * HOUR)
    assert slots[11][:2] == (ts(at(11, 25, 10)), ts(at(11, 25, 10, 30))) and slots[12][0] == ts(at(11, 25, 16))


# -- what a request would do ------------------------------------------------------------------------
def test_a_rush_order_that_pushes_two_orders_late():
    now, today = at(11, 25, 9), date(2026, 11, 25)
    a = order(1, "SO-A", [step(11, 1, 1, 150, 50)], due=today)       # 3 h each, due tonight: on time now
    b = order(2, "SO-B", [step(21, 1, 1, 150, 50)], due=today)
    rush = order(9, "SO-R", [step(91, 1, 1, 300, 50)], priority=1, due=date(2026, 11, 26))
    before, after = plan_of([a, b], now), plan_of([a, b, rush], now)
    assert not before.orders[1].late and not before.orders[2].late
    assert after.orders[9].forecast_end == at(11, 25, 16) and not after.orders[9].late
    assert after.orders[1].forecast_end == at(11, 26, 9, 30) and after.orders[1].late_minutes == 90
    assert after.orders[2].forecast_end == at(11, 26, 13, 30) and after.orders[2].late_minutes == 270
    pushed, total = pushed_orders(before, after, exclude=9)
    assert total == 2 and [(p.order_no, p.became_late, p.after_minutes) for p in pushed] == \
        [("SO-B", True, 270), ("SO-A", True, 90)]


def test_a_change_that_shortens_a_job_brings_the_next_order_back_on_time():
    now, today = at(11, 25, 9), date(2026, 11, 25)
    x = order(1, "SO-X", [step(11, 1, 1, 300, 50)], priority=2, due=date(2026, 11, 27))
    y = order(2, "SO-Y", [step(21, 1, 1, 150, 50)], priority=3, due=today)
    before = plan_of([x, y], now)
    assert before.orders[1].forecast_end == at(11, 25, 16) and before.orders[2].late_minutes == 90
    shorter = x.with_steps([step(11, 1, 1, 150, 50)])
    after = plan_of([shorter, y], now)
    assert after.orders[1].forecast_end == at(11, 25, 12)
    assert after.orders[2].forecast_end == at(11, 25, 16) and not after.orders[2].late


# -- whose delay ------------------------------------------------------------------------------------
def test_a_delay_belongs_to_the_first_late_step_not_to_the_workshops_after_it():
    late_stamping = step(11, 1, 1, 400, 50, "running", good=100, first_report_at=at(11, 24, 8))
    p = plan_of([order(1, "SO-1", [late_stamping, step(12, 2, 2, 400, 50), step(13, 3, 3, 400, 50)],
                       due=date(2026, 11, 26))], at(11, 25, 9, 30))
    # back from Thu 17:30, 8 h a step: assembly from Thu 08:30, welding from Wed 09:00, so stamping was due 09:00
    assert p.steps()[11].planned_end == at(11, 25, 9)
    delay = delay_of(p.orders[1].steps, ts(at(11, 25, 9, 30)), tolerance_minutes=60)
    assert delay is not None and delay.cause.step_id == 11 and delay.level == "late"
    assert [s.step_id for s in delay.downstream] == [12, 13]
    assert p.steps()[12].late_minutes > 60 and p.steps()[13].late_minutes > 60   # late too, but not their doing


def test_absurd_quantities_and_dates_stay_cheap_and_within_2000_to_2099():
    # ten million parts at one an hour: working time past three years is counted at the average rate
    huge = order(1, "SO-H", [step(11, 1, 1, 10_000_000, 1.0), step(12, 2, 2, 10_000_000, 1.0)], due=date(2000, 1, 1))
    far = order(2, "SO-F", [step(21, 1, 3, 10, 10.0)], due=date(2099, 12, 31))   # a workshop of its own
    p = plan_of([huge, far], at(11, 25, 9))
    for sp in p.steps().values():
        assert datetime(2000, 1, 1) <= sp.planned_start <= sp.planned_end <= datetime(2100, 1, 1)
        assert datetime(2000, 1, 1) <= sp.forecast_end <= datetime(2100, 1, 1)
    assert p.orders[1].late and not p.orders[2].late
    assert p.steps()[21].forecast_end == at(11, 25, 10)


def test_a_calendar_kept_between_plans_gives_an_order_changed_since_its_new_planned_dates():
    """The due dates' plan is kept with the calendar per order (a long-lived jobs process plans
    every few minutes): a changed quantity, rate or due date is planned anew, as a fresh calendar
    plans it, and an unchanged order keeps the same dates."""
    kept = cal()
    now = at(11, 25, 9)
    first = order(1, "SO-1", [step(11, 1, 1, 80, 10), step(12, 2, 2, 80, 20)])
    changes = [first.with_steps([step(11, 1, 1, 160, 10), step(12, 2, 2, 160, 20)]),   # quantity
               first.with_steps([step(11, 1, 1, 80, 5), step(12, 2, 2, 80, 20)]),      # rate
               order(1, "SO-1", first.steps, due=date(2026, 11, 30)),                  # due date
               first]                                                                   # back as it was
    planned = lambda p: [(s.ps, s.pe) for s in p.orders[1].steps]  # noqa: E731
    before = planned(plan_of([first], now, kept))
    seen = [before]
    for changed in changes:
        again = planned(plan_of([changed], now, kept))
        assert again == planned(plan_of([changed], now, cal())), changed
        seen.append(again)
    assert seen[-1] == before and len({tuple(x) for x in seen}) == 4, seen
    assert before[1] == (ts(at(11, 27, 13, 30)), ts(at(11, 27, 17, 30)))   # 80 at 20/h: 4 h before Friday's end
