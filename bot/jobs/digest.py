"""The daily digest: at each group's time, once per group and day. It leads with the answer — the
factory day's output against the plan, yield, orders stopped, late and at risk — then at most five
orders that need a person, each with its owner and what is expected; the managers' groups get the
plant view, the bottleneck and, where the platform shows images, a chart of the last 7 working days."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import charts, links
from bot.jobs import replan
from bot.platforms.contract import Image
from planning.calendar import WorkCalendar
from storage import planner
from storage.delays import OrderDelay, current_delays
from storage.digest import (Attention, Bottleneck, ShopDay, attention, bottleneck, candidates, counts, day_window,
                            pick, shop_days, shop_days_of, working_days_before)
from storage.directory import people_with_role
from storage.models import GroupBinding, Order, SentDigest, Workshop
from storage.views import WorkshopDay, digest_sent, orders_done_since, workshops_worked

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Links:
    """Where a digest's links point: the server people reach and a read-only link token."""
    base: str
    token: str

    def board(self, workshop: str | None = None) -> str:
        return links.board_url(self.base, self.token, workshop)

    def order(self, order_no: str) -> str:
        return links.order_url(self.base, order_no, self.token)


def run(relay) -> dict:
    now = relay.clock.now()
    local = relay.clock.local(now)
    default = relay.settings.schedule.digest_time
    sent = 0
    with relay.Session() as session:
        groups = session.scalars(select(GroupBinding).order_by(GroupBinding.id)).all()
        cal = _calendar(session)
        # on a day its workshop (the plant, for the managers) does not work, a group gets no digest
        due = [g.id for g in groups if local.time() >= time.fromisoformat(g.digest_time or default)
               and (g.workshop_id or g.role == "managers") and cal.is_workday(local.date(), g.workshop_id)
               and not digest_sent(session, g.id, local.date())]
        if not due:
            managers = [g.id for g in groups if not g.workshop_id and g.role == "managers"]
            return {"digests": 0, "chart_drawn": _draw_ahead(relay, session, local.date(), managers)}
    replan.run(relay, force=False)   # the stored plan, made again if commands moved it or it has grown old
    # what every group's digest reads, read once, outside the writers' queue (storage.db)
    with relay.ReadSession() as session:
        delays = current_delays(session, now, relay.settings.schedule.at_risk_tolerance_minutes)
        yesterday = last_worked_day(session, _calendar(session), local.date())
        plant = plant_day(session, yesterday, delays, now, day_window(relay.clock.tz, yesterday))
    run = _Run(local.date(), now, plant, digest_links(relay, now), {}, {}, yesterday)
    try:
        sent = _send(relay, due, run)   # all in one transaction
    except Exception:   # a second run sent some meanwhile, or one failed: each group on its own
        log.info("digests: sending one group at a time", exc_info=True)
        failed: Exception | None = None
        for group_id in due:
            try:
                sent += _send(relay, [group_id], run, tolerate_sent=True)
            except Exception as exc:   # the others still go; this one is tried again next minute
                log.exception("digest of group %s failed", group_id)
                failed = failed or exc
        if failed is not None:
            raise failed from None
    return {"digests": sent}


@dataclass
class _Run:
    """One run of the digests: its day, and what every group's digest shares (each workshop's
    text, the managers' text and chart), made once."""
    day: date
    now: datetime
    plant: PlantDay
    link: Links | None
    texts: dict[int | None, str]
    pictures: dict[date, bytes | None]
    told: date        # the day the digests tell of: the last one anybody worked


@dataclass(frozen=True)
class PlantDay:
    """What every digest of a run reads alike: the factory day per workshop, what needs a person
    plant-wide, the bottleneck, the managers (who own the requests)."""
    delays: list[OrderDelay]
    shops: list[ShopDay]
    found: list[Attention]
    bottleneck: Bottleneck | None
    managers: tuple[str, ...]
    worked: dict[int, WorkshopDay]   # each workshop's factory day (empty without a day)


def plant_day(session: Session, day: date | None, delays: list[OrderDelay], now: datetime,
              window: tuple[datetime, datetime] | None = None) -> PlantDay:
    """`window`: the factory day's bounds (naive UTC), to read each workshop's day once for all."""
    managers = tuple(p.name for p in people_with_role(session, "manager"))
    return PlantDay(delays, shop_days(session, _calendar(session), day) if day else [],
                    candidates(session, now, delays, managers), bottleneck(session), managers,
                    workshops_worked(session, *window) if window else {})


def digest_links(relay, now: datetime) -> Links | None:
    """The digest's links, when the server has an address people reach and a board token to sign with."""
    token = links.link_token(relay.settings.api.board_tokens, now)
    base = getattr(relay.services, "public_url", "")
    return Links(base, token) if token and base else None


def _send(relay, group_ids: list[int], run: _Run, tolerate_sent: bool = False) -> int:
    """These groups' digests for the run's day, in one transaction: each group's one row decides
    (a second run that got there first makes it fail; `tolerate_sent`: then 0). Groups of one
    workshop (and the managers' groups) read the same text, made by the first of them."""
    try:
        with relay.Session.begin() as session:
            session.add_all(SentDigest(group_id=g, day=run.day, created_at=run.now) for g in group_ids)
            session.flush()
            session.scalars(select(GroupBinding).where(GroupBinding.id.in_(group_ids))).all()   # one read
            for group_id in group_ids:
                _queue_digest(relay, session, group_id, run)
            return len(group_ids)
    except IntegrityError:
        if tolerate_sent:
            return 0
        raise


def _queue_digest(relay, session: Session, group_id: int, run: _Run) -> None:
    group = session.get(GroupBinding, group_id)
    assert group is not None
    day, now, plant, texts = run.day, run.now, run.plant, run.texts
    start, end = day_window(relay.clock.tz, run.told)
    link = run.link
    key = f"digest:{group_id}:{day.isoformat()}"
    window = (start, end, run.told)
    if group.workshop_id not in texts:
        if group.workshop_id:
            context = workshop_digest(session, group.workshop_id, window, plant.delays, now=now, link=link,
                                      plant=plant)
            texts[group.workshop_id] = relay.messages.render("notices/digest_workshop", context)
        else:
            context = managers_digest(session, window, now, plant.delays, link=link, plant=plant)
            texts[None] = relay.messages.render("notices/digest_managers", context)
    relay.enqueue_group_text(session, group, texts[group.workshop_id], key=key)
    if not group.workshop_id:
        _send_chart(relay, session, group, day, key, run.pictures)


def _send_chart(relay, session: Session, group: GroupBinding, day: date, key: str,
                pictures: dict[date, bytes | None]) -> None:
    """The managers' chart, where the group's platform shows pictures (drawn once per day and
    figures; None: it could not be drawn, and the digest goes without it)."""
    name = links.chart_name(relay.settings.api.board_tokens, day)
    base = getattr(relay.services, "public_url", "")
    if day not in pictures:
        try:
            pictures[day] = chart_png(relay, session, day)
        except Exception:   # the digest goes without its picture rather than not at all
            log.exception("the managers' chart of %s was not drawn", day)
            pictures[day] = None
    png = pictures[day]
    if png is None:
        return
    image = Image(title=relay.messages.render("charts/image_title", {"day": day}), png=png,
                  url=f"{base.rstrip('/')}/charts/{name}.png" if name and base else "")
    relay.enqueue_group_image(session, group, image, key=f"{key}:chart")


def _draw_ahead(relay, session: Session, day: date, managers: list[int]) -> bool:
    """The managers' chart of `day`'s digest, drawn in a minute when no digest is due (it takes
    about a second, most of it loading matplotlib), so the digests at their time only send it.
    Drawn again at the digest if the figures have changed since."""
    plant = str(relay.engine.url)
    if (plant, day) in _not_drawn or charts.drawn(plant, day) \
            or not any(not digest_sent(session, g, day) for g in managers):
        return False
    try:
        chart_png(relay, session, day)
    except Exception:   # only ahead: the digest tries again at its time; not every minute until then
        log.exception("the managers' chart of %s was not drawn ahead", day)
        _not_drawn.add((plant, day))
        return False
    return True


_not_drawn: set[tuple[str, date]] = set()   # (plant, day) whose chart failed to draw ahead


def last_worked_day(session: Session, cal: WorkCalendar, today: date) -> date:
    """The day a digest tells of: the last day before `today` on which the plant or any workshop
    worked (Friday's, on a Monday; not a Sunday's 休息)."""
    workshops = list(session.scalars(select(Workshop.id)))
    day = today - timedelta(days=1)
    for _ in range(31):
        if cal.is_workday(day, None) or any(cal.is_workday(day, w) for w in workshops):
            return day
        day -= timedelta(days=1)
    return today - timedelta(days=1)


def _day_word(day: date | None, today: date) -> str:
    """How a digest names the day it tells of: 昨日, or its date when that was longer ago."""
    return "昨日" if day is None or day == today - timedelta(days=1) else f"{day:%m-%d} "


def _calendar(session: Session) -> WorkCalendar:
    return planner.calendar(session)


def _yield(days: list[ShopDay]) -> float | None:
    good, scrap = sum(d.good for d in days), sum(d.scrap for d in days)
    return round(100 * good / (good + scrap), 1) if good + scrap else None


def _common(items: list[Attention], link: Links | None, shops: list[ShopDay], now: datetime) -> dict:
    shown = pick(items)
    rest = items[len(shown):]
    return {"items": shown, "more": len(rest), "more_stopped": sum(1 for i in rest if i.state == "stopped"),
            "counts": counts(items), "yield": _yield(shops), "now": now,
            "order_urls": {i.order_no: link.order(i.order_no) for i in shown if i.state != "request"} if link else {}}


def workshop_digest(session: Session, workshop_id: int, window, delays: list[OrderDelay], *,
                    now: datetime | None = None, link: Links | None = None, plant: PlantDay | None = None) -> dict:
    """A workshop's view: its factory day against the plan, what it must act on, its output by order."""
    start, end, day = window
    now = now or end
    plant = plant or plant_day(session, day, delays, now)
    workshop = session.get(Workshop, workshop_id)
    assert workshop is not None
    shop = next((s for s in plant.shops if s.workshop_id == workshop_id), None)
    items = attention(session, now, delays, workshop_id, found=plant.found)
    worked = plant.worked.get(workshop_id) or workshops_worked(session, start, end)[workshop_id]
    today = _calendar(session).local(now).date()
    return {"workshop": workshop.name, "day": day, "today": today, "day_word": _day_word(day, today), "shop": shop,
            "output": sorted(((no, good) for no, good, _scrap in worked.output), key=lambda kv: -kv[1]),
            "completed": worked.completed, "incidents": worked.incidents,
            "board_url": link.board(workshop.code) if link else "",
            **_common(items, link, [shop] if shop else [], now)}


def managers_digest(session: Session, window, now: datetime, delays: list[OrderDelay], *,
                    link: Links | None = None, plant: PlantDay | None = None) -> dict:
    """The plant view: every workshop's factory day against the plan, the orders that need a
    person, the bottleneck by the plan's queue, on-time deliveries over 30 days."""
    _start, _end, day = window
    cal = _calendar(session)
    plant = plant or plant_day(session, day, delays, now)
    shops = plant.shops
    items = attention(session, now, delays, None, plant.managers, found=plant.found)
    done = orders_done_since(session, now - timedelta(days=30))
    on_time = [o for o in done if o.steps[-1].completed_at and o.steps[-1].completed_at <= _due_moment(o, cal)]
    today = cal.local(now).date()
    return {"day": day, "today": today, "day_word": _day_word(day, today), "shops": shops, "bottleneck": plant.bottleneck,
            "done": len(done), "on_time": len(on_time),
            "on_time_rate": round(100 * len(on_time) / len(done)) if done else None,
            "board_url": link.board() if link else "", **_common(items, link, shops, now)}


def _due_moment(order: Order, cal: WorkCalendar) -> datetime:
    """The order's due moment as the plan has it (an order done before the plan ever saw it open
    has none stored: the plan's own rule then, the end of the due date's working time)."""
    if order.due_at is not None:
        return order.due_at
    from planning.model import OrderState, StepState, from_ts
    from planning.plan import due_at
    last = order.steps[-1]
    state = OrderState(order.id, order.order_no, order.priority, order.due_date,
                       (StepState(last.id, last.seq, last.workshop_id, last.status, last.planned_qty, last.units_per_hour),))
    return from_ts(due_at(state, cal))


def chart_png(relay, session: Session, day: date) -> bytes:
    """The managers' chart of `day`'s digest as it stands (drawn again only if its figures changed)."""
    return charts.cached(str(relay.engine.url), day, chart_data(session, day), relay.messages.render)


def chart_data(session: Session, day: date, count: int = 7) -> list[tuple[date, list[ShopDay]]]:
    """Output and plan per workshop on each of the `count` working days before `day`."""
    cal = _calendar(session)
    days = working_days_before(cal, day, count)
    return list(zip(days, shop_days_of(session, cal, days), strict=True))
