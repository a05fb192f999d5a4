"""报工 SO-1001 [焊接] 118 [不良 2] [备注 焊点虚焊] — and as leads really type it: `报工SO-1001 118`,
`SO-1001 报工 118`, `良品118 不良2`, `共118件`, `做了一百一十八`, `今天冲压做了118` (the one running order)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from statistics import median

from sqlalchemy import bindparam, select

from bot.errors import Ask, BadSyntax
from bot.handlers.base import Context
from bot.handlers.common import handoff_notice, require_person
from bot.handlers.reading import Aside, count, guess_order, set_aside, step_word, take_order
from bot.handlers.workers import Worker, ask_unknown, take_workers, workers_text
from bot.neutral import Reply
from bot.text import Word, join_words
from storage.models import Order, Person, Report, Step
from storage.production import report_output
from storage.workers import Share, split, team_of

REPEAT_WINDOW = timedelta(minutes=10)   # the same quantities again within this is asked about
UNUSUAL_FACTOR = 4                      # a batch this many times the step's usual one is asked about


@dataclass
class ReportWords:
    order: Order | None
    step_name: str | None
    good: int | None
    scrap: int | None
    note: str
    unknown: list[Word]
    workers: list[Worker]
    defect: str = ""          # the scrap was counted by this defect (`毛刺2`): its note, asked about first
    aside: Aside = field(default_factory=Aside)   # rates, "about", counts per part of the day: asked about first


def parse_report(ctx: Context, args: list[Word]) -> ReportWords:
    """What the words after 报工 say: the order (None if not named), step, good, scrap, note.

    Good and scrap are both None when no quantity was given. A word that is none of ours before
    any quantity is taken for a step name (the handler checks it); after them it is `unknown`."""
    order, rest = take_order(ctx, list(args))
    step_name, rest = step_word(ctx, rest)
    rest, aside = set_aside(rest, "报工", ctx.settings.app.max_report_quantity)
    if aside.parts:   # `上午60 下午60`: 120, said in parts
        rest = [Word(str(sum(n for _, n in aside.parts)))] + rest
    named = take_workers(ctx, rest, "报工")
    workers, rest = named.workers, named.rest
    numbers = count(rest, "报工", ctx.settings.app.max_report_quantity)
    if numbers.good is None and workers and all(w.share is not None for w in workers):
        numbers.good = sum(w.share or 0 for w in workers)   # `报工 SO-1001 王五60 赵六60`: 120 in all
    if numbers.dangling:
        raise BadSyntax(command="报工", problem="missing_quantity", token=numbers.dangling)
    if numbers.extra:
        raise BadSyntax(command="报工", problem="unexpected", token=numbers.extra[0])
    unknown = list(numbers.unknown)
    if len(unknown) == 1 and step_name is None and rest and rest[0] is unknown[0]:
        step_name = str(unknown.pop(0))   # `报工 SO-1001 喷漆 10`: meant as a step, checked against the order
    if numbers.good is None and numbers.scrap is None:
        if unknown:
            raise BadSyntax(command="报工", problem="unexpected", token=unknown[0])
        return ReportWords(order, step_name, None, None, numbers.note, [], workers, aside=aside)
    if len(unknown) > numbers.trailing:   # a word of no meaning among the quantities: that word broke it
        raise BadSyntax(command="报工", problem="unexpected", token=unknown[0])
    return ReportWords(order, step_name, numbers.good or 0, numbers.scrap or 0, numbers.note, unknown, workers,
                       numbers.defect, aside)


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    ctx.lock_orders = True   # the order named is read with its lock (report_output finds it held)
    words = parse_report(ctx, [a if isinstance(a, Word) else Word(a) for a in args])
    step_name, good, scrap, note = words.step_name, words.good, words.scrap, words.note
    order = words.order
    if order is None:
        if good is None:
            raise BadSyntax(command="报工", problem="missing_order")
        what = " ".join(filter(None, [step_name, f"良品 {good}", f"不良 {scrap}" if scrap else "",
                                      f"备注 {note}" if note else ""]))
        order = guess_order(ctx, step_name, reading=what, command=f"报工 {{}} {what}")
    if good is None or scrap is None:
        if step_name and not ctx.is_step_name(order, step_name):
            raise BadSyntax(command="报工", problem="unexpected", token=step_name)
        step = ctx.step_for(order, step_name)
        raise Ask(kind="quantity", reading=f"{order.order_no} {order.product} {step.workshop.name}",
                  command=f"报工 {order.order_no} {step.workshop.name} {{}} {workers_text(words.workers)}".strip(),
                  choices=[])
    step = ctx.step_for(order, step_name)
    if words.defect:    # `报工 SO-1001 50 毛刺2`: 2 scrap for 毛刺, read so and asked about first
        ctx.doubt("defect", defect=words.defect, scrap=scrap)
        note = " ".join(filter(None, [words.defect, note]))[:200]
    if words.aside.rates:   # `报工 SO-1001 120 良率97%`: a rate is no count, kept as the note
        rates = " ".join(words.aside.rates)
        ctx.doubt("rate", words=rates)
        note = " ".join(filter(None, [rates, note]))[:200]
    if words.aside.approximate:   # `约120`: a report is an exact count
        ctx.doubt("approximate", word=words.aside.approximate, quantity=good)
    parts = words.aside.parts
    if len(parts) > 1:   # `上午60 下午60`: added up, shown before it counts
        ctx.doubt("parts", parts=" + ".join(f"{label} {n}" for label, n in parts), total=good)
    if parts:            # `白班60`: the shift is kept as the note
        said_parts = " ".join(f"{label}{n}" for label, n in parts)
        note = " ".join(filter(None, [said_parts, note]))[:200]
    if words.unknown:   # `报工 SO-1001 5 毛刺`: the words that broke it, offered as the note
        ctx.doubt("unknown_words", words=join_words(words.unknown))
        note = " ".join(filter(None, [join_words(words.unknown), note]))[:200]
    said = f"{order.order_no} {order.product} {step.workshop.name} 良品 {good}" + (f" 不良 {scrap}" if scrap else "")
    typed = f"报工 {order.order_no} {step.workshop.name} 良品 {good} 不良 {scrap}"
    shares = _shares(ctx, person, words.workers, good, scrap, reading=said,
                     command=typed + " {}" + (f" 备注 {note}" if note else ""))
    _doubt_repeat_or_unusual(ctx, step, good, scrap)
    ctx.read_as(said + _shares_text(shares) + (f" 备注 {note}" if note else ""),
                f"{typed} {workers_text(words.workers)}" + (f" 备注 {note}" if note else ""))
    outcome = report_output(ctx.session, ctx.now, step_id=step.id, person=person, good=good, scrap=scrap,
                            note=note, source=ctx.message.source, limits=ctx.limits, shares=shares)
    if outcome.handoff is not None:
        handoff_notice(ctx, outcome.handoff)
    ctx.replan()
    step = outcome.step
    return Reply("report_ok", {
        "order_no": order.order_no, "product": order.product, "workshop": step.workshop.name,
        "report_id": outcome.report.id, "good": good, "scrap": scrap, "good_total": step.good_qty,
        "scrap_total": step.scrap_qty, "planned": step.planned_qty,
        "percent": min(100, step.good_qty * 100 // max(step.planned_qty, 1)),
        "done": step.status == "done", "projected": step.forecast_end, "planned_end": step.planned_end,
        "late_minutes": step.late_minutes, "provisional": step.provisional,
        "handoff": None if outcome.handoff is None else {
            "quantity": outcome.handoff.quantity, "to": outcome.handoff.to_step.workshop.name},
        "undo_minutes": ctx.settings.app.undo_window_minutes,
        "workers": [s.as_data() for s in shares], "team": bool(shares) and shares[0].basis == "team",
    })


def _shares(ctx: Context, person: Person, workers: list[Worker], good: int, scrap: int, *, reading: str,
            command: str) -> list[Share]:
    """Who made these parts: the workers named (each a person, or asked about), else the lead's
    team of the shift split equally, else nobody named (the report is the reporter's)."""
    if workers:
        ask_unknown(ctx, workers, reading=reading, command=command)
        return split(good, scrap, [(w.person, w.share) for w in workers if w.person is not None])
    team = team_of(ctx.session, person, ctx.now)
    return split(good, scrap, [(p, None) for p in team], basis="team") if team else []


def _shares_text(shares: list[Share]) -> str:
    if not shares:
        return ""
    who = "、".join(f"{s.person.name} {s.good}" + (f"（不良 {s.scrap}）" if s.scrap else "") for s in shares)
    return f"（{'班组' if shares[0].basis == 'team' else '分给'} {who}）"


_STANDING = (select(Report.id, Report.person_id, Report.good, Report.scrap, Report.created_at)   # built once
             .where(Report.step_id == bindparam("b_step"), Report.undone_at.is_(None)).order_by(Report.id.desc()))


def _doubt_repeat_or_unusual(ctx: Context, step: Step, good: int, scrap: int) -> None:
    """The person's own report of the same quantities on this step within ten minutes (sent twice?),
    or a batch far beyond this step's usual one (an extra digit?), is asked about before it counts.
    One query: the step's standing reports (what both checks read)."""
    assert ctx.person is not None
    standing = ctx.session.execute(_STANDING, {"b_step": step.id}).all()
    since = ctx.now - REPEAT_WINDOW
    recent = next((r for r in standing if r.person_id == ctx.person.id and r.good == good and r.scrap == scrap
                   and r.created_at >= since), None)
    if recent is not None:
        ctx.doubt("repeat", report_id=recent.id, person=ctx.person.name, at=recent.created_at,
                  minutes=int((ctx.now - recent.created_at).total_seconds() // 60))
        return
    batches = [r.good for r in standing if r.good > 0]
    if len(batches) < 2:
        return
    usual = median(batches)
    remaining = step.planned_qty - step.good_qty
    if good >= UNUSUAL_FACTOR * usual and good - usual >= 20 and good != remaining:
        ctx.doubt("unusual", usual=int(usual), quantity=good)
