"""接收 SO-1001 [数量] — confirm the pending handoff, or dispute it with the real quantity. Also
`确认接收 SO-1001` (the button's label), `接收SO-1001 实收58`, and `收到 SO-1001`."""
from __future__ import annotations

import re

from sqlalchemy import select

from bot.handlers.base import Context
from bot.handlers.common import close_handoff_cards, dispute_notices, require_person
from bot.handlers.reading import (FINE_WORDS, MISMATCH_WORDS, WITHIN_WORDS, key_of, one_quantity, split_reason, step_word,
                                  take_order)
from bot.handlers.warning import ack_command, open_warnings
from bot.neutral import Reply
from bot.text import Word, join_words
from bot.errors import AskForQuantity, BadSyntax
from storage.incidents import receive
from storage.models import Handoff

PLACEHOLDERS = {"实收数量", "实际数量", "实收数", "数量"}
# said around the real count (`只有96`, `数量不对 96`, `实际收到96`, `就96个`)
SAID_AROUND = {"只有", "只", "就", "才", "不对", "实际收到", "收到", "只收到", "到了"} | MISMATCH_WORDS
SHORT_WORDS = {"少", "少了", "差", "差了", "缺", "缺了"}   # `少4个`: the batch less that many
RECEIVED_WORDS = frozenset(SAID_AROUND | SHORT_WORDS | {"实收"})   # what an answer with the real count may say
OF_SENT = re.compile(r"(\d{1,9})/(\d{1,9})")   # `96/100`: received of sent
BATCH_MARK = "#H"   # `接收 SO-1001 110 #H12`: the batch a card's 数量不符 asked about (the answer replays it)


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    order, rest = take_order(ctx, list(args), digits_may_be_quantity=False)
    if order is None:
        raise BadSyntax(command="接收", problem="receive")
    _, rest = step_word(ctx, rest)   # the workshop is this chat's; its name may be said anyway
    batch = next((int(w[len(BATCH_MARK):]) for w in rest if w.startswith(BATCH_MARK) and w[len(BATCH_MARK):].isdigit()),
                 None)
    rest = [w for w in rest if not w.startswith(BATCH_MARK)]
    workshop_id = ctx.workshop_id()
    if workshop_id is None:
        raise BadSyntax(command="接收", problem="no_workshop")
    pending = _pending_quantity(ctx, order, workshop_id, batch)
    if rest and all(w in PLACEHOLDERS for w in rest):   # the card's hint typed as it is: ask for the number
        raise AskForQuantity(order_no=order.order_no, quantity=pending or 0)
    rest, reason = split_reason(rest)                   # `96 原因 运输磕碰`: the dispute's reason
    within = next((i for i, w in enumerate(rest) if i and w in WITHIN_WORDS), None)
    if within is not None and not reason:               # `96件 其中2件磕碰`: said of what came
        rest, reason = rest[:within], join_words(rest[within:])[:200]
    rest = [_of_sent(w, pending) for w in rest if key_of(w) not in SAID_AROUND and key_of(w) not in FINE_WORDS]
    short = next((i for i, w in enumerate(rest) if w in SHORT_WORDS), None)
    limit = ctx.settings.app.max_report_quantity
    counted = one_quantity(rest[:short], "接收", limit) if short else None   # `实收 96 少了4个`: both said
    received = one_quantity(rest[short + 1:] if short is not None else rest, "接收", limit)
    if short is not None and received is not None and pending is not None:   # `少4个`: what is missing
        received = pending - received
        if received < 0 or counted is not None and counted != received:
            raise BadSyntax(command="接收", problem="unexpected", token=rest[short])
    label = f"{order.order_no} {order.product}"
    mark = f" {BATCH_MARK}{batch}" if batch is not None else ""
    if received is not None and pending is not None and received > pending:
        ctx.doubt("more_than_sent", sent=pending, more=received - pending)   # the next step may make it all
    if received is not None and pending is not None and received != pending:
        ctx.read_as(f"{label} 实收 {received}（交接单 {pending}）", f"接收 {order.order_no} {received}{mark}")
    else:
        ctx.read_as(f"{label} 来料" + (f" {pending} 件" if pending else ""), f"接收 {order.order_no}{mark}")
    handoffs, incident = receive(ctx.session, ctx.now, order=order, workshop_id=workshop_id, person=person,
                                 received=received, source=ctx.message.source, handoff_id=batch, reason=reason)
    if incident is not None:
        handoff = handoffs[0]
        close_handoff_cards(ctx, [handoff], "dispute")
        dispute_notices(ctx, handoff, incident)
        return Reply("receive_disputed", {"order_no": order.order_no, "product": order.product, "sent": handoff.quantity,
                                          "received": received, "from_workshop": handoff.from_step.workshop.name,
                                          "workshop": handoff.to_step.workshop.name})
    close_handoff_cards(ctx, handoffs, "confirm")
    step = handoffs[0].to_step
    return Reply("receive_ok", {"order_no": order.order_no, "product": order.product, "workshop": step.workshop.name,
                                "quantity": sum(h.quantity for h in handoffs), "received_total": step.received_qty,
                                "from_workshop": handoffs[0].from_step.workshop.name, "paused": order.hold == "paused"})


def received(ctx: Context, args: list[str]) -> Reply:
    """`收到 SO-1001`: the handoff waiting for this workshop, else the order's warning here;
    `收到` alone acknowledges this workshop's warnings."""
    order, _ = take_order(ctx, list(args), digits_may_be_quantity=False) if args else (None, [])
    workshop_id = ctx.workshop_id()
    if order is None or workshop_id is None:
        return ack_command(ctx, list(args))
    if _pending_quantity(ctx, order, workshop_id) is None and open_warnings(ctx, order=order):
        return ack_command(ctx, list(args))
    return handle(ctx, list(args))


def _of_sent(word: Word, pending: int | None) -> Word:
    """`96/100` said of the batch of 100: 96."""
    match = OF_SENT.fullmatch(word)
    return Word(match.group(1), word.glued) if match and pending is not None and int(match.group(2)) == pending \
        else word


def _pending_quantity(ctx: Context, order, workshop_id: int, batch: int | None = None) -> int | None:
    """The oldest pending handoff's quantity into this workshop's step (what a number disputes),
    or that of the batch named."""
    step = next((s for s in order.steps if s.workshop_id == workshop_id), None)
    if step is None:
        return None
    stmt = select(Handoff.quantity).where(Handoff.to_step_id == step.id, Handoff.status == "pending")
    if batch is not None:
        stmt = stmt.where(Handoff.id == batch)
    return ctx.session.scalar(stmt.order_by(Handoff.id))
