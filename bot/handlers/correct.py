"""更正 R-123 良品 95 [不良 5] [王五 50 赵六 45] — a workshop head or a manager corrects a report after
handoff (and who made it: `更正 R-123 王五 60 孙七 60`); the difference reaches the handoff and the
next step, and both workshops are told. Shares not named again are scaled to the new numbers."""
from __future__ import annotations

import re

from bot.errors import BadSyntax
from bot.handlers.base import Context
from bot.handlers.common import handoff_context, require_person
from bot.handlers.reading import GOOD_WORDS, SCRAP_WORDS, split_reason
from bot.handlers.requests import FROM_WORDS
from bot.handlers.workers import ask_unknown, take_workers
from bot.neutral import Reply
from bot.text import UNITS, parse_quantity, simplify
from storage.corrections import correct_report
from storage.models import Report

SKIPPED = {"改成", "改为", "改到", "为", "是", "应该是", "实际", "实际是"}
REPORT_ID = re.compile(r"[Rr]-?(\d{1,12})|(\d{1,12})")


def parse_correction(args: list[str], max_quantity: int) -> tuple[int, int | None, int | None]:
    """(report id, good, scrap or None) from `R-123 良品 95 [不良 5]` or `R-123 95`."""
    match = REPORT_ID.fullmatch(args[0]) if args else None
    if not match or len(args) < 2:
        raise BadSyntax(command="更正", problem="correct")
    good = scrap = None
    rest = [part for word in args[1:] for part in _split_said(simplify(word).lower())]
    while rest:
        word = rest.pop(0)
        if word in SKIPPED or word in UNITS:   # `良品95件`, `改成 95`
            continue
        if word in GOOD_WORDS | SCRAP_WORDS and rest:
            while rest and rest[0] in SKIPPED:
                rest.pop(0)
            if len(rest) > 1 and rest[0] in FROM_WORDS and re.match(r"^\d", rest[1]):   # `从100改成95`: 95
                del rest[:2]
                while rest and rest[0] in SKIPPED:
                    rest.pop(0)
            if not rest:
                raise BadSyntax(command="更正", problem="correct")
            value = parse_quantity(rest.pop(0), "更正", max_quantity)
            good, scrap = (value, scrap) if word in GOOD_WORDS else (good, value)
        elif good is None and re.match(r"^-?\d", word):
            good = parse_quantity(word, "更正", max_quantity)
        else:
            raise BadSyntax(command="更正", problem="correct")
    return int(match.group(1) or match.group(2)), good, scrap


def _split_said(word: str) -> list[str]:
    """`良品改成` (written as one word) as `良品`, `改成`."""
    for said in SKIPPED:
        if word.endswith(said) and word[:-len(said)] in GOOD_WORDS | SCRAP_WORDS:
            return [word[:-len(said)], said]
    return [word]


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    args, reason = split_reason(list(args))   # `原因 漏报`: kept with the correction's event
    named = take_workers(ctx, list(args[1:]), "更正", quantity_known=True)
    workers = named.workers or None
    if workers and not named.rest:   # only the workers: the quantities stay (or are their sum)
        given = [w.share for w in workers]
        current = ctx.session.get(Report, parse_correction([args[0], "0"], 1)[0])
        named.rest = [str(sum(given))] if None not in given else ([str(current.good)] if current else [])
    report_id, good, scrap = parse_correction([*args[:1], *named.rest], ctx.settings.app.max_report_quantity)
    if good is None and scrap is None:
        raise BadSyntax(command="更正", problem="correct")
    if workers:
        ask_unknown(ctx, workers, reading=f"更正 R-{report_id}", command=f"更正 R-{report_id}"
                    + (f" 良品 {good}" if good is not None else "") + (f" 不良 {scrap}" if scrap is not None else "")
                    + " {}")
    done = correct_report(ctx.session, ctx.now, report_id=report_id, person=person, good=good, scrap=scrap,
                          source=ctx.message.source, limits=ctx.limits,
                          workers=[(w.person, w.share) for w in workers if w.person] if workers else None,
                          reason=reason)
    step = done.step
    context = {"report_id": report_id, "order_no": step.order.order_no, "workshop": step.workshop.name,
               "old_good": done.old_good, "old_scrap": done.old_scrap, "good": done.report.good,
               "scrap": done.report.scrap, "good_total": step.good_qty, "person": person.name,
               "downstream": done.downstream.workshop.name if done.downstream else None,
               "received_total": done.downstream.received_qty if done.downstream else None,
               "handoff_quantity": done.handoff.quantity if done.handoff else None, "workers": done.workers}
    key = f"report:{report_id}:corrected:{ctx.message.message_id}"
    ctx.notify_workshop(step.workshop_id, "notices/report_corrected", key=f"{key}:from", **context)
    if done.handoff is not None:
        ctx.notify_workshop(done.handoff.to_step.workshop_id, "notices/report_corrected", key=f"{key}:to", **context)
        if done.handoff.status == "pending":   # its cards show the batch as it is now
            ctx.refresh_cards("handoff", done.handoff.id, handoff_context(done.handoff))
    return Reply("correct_ok", context)
