"""交接 SO-1001 [工序] 60 — hand a partial batch to the next workshop now (`交接SO-1001 六十件` too);
`交接 SO-1001 全部` (剩下的, 所有): every good part not handed over yet, counted under the step's lock."""
from __future__ import annotations

from bot.handlers.base import Context
from bot.handlers.common import handoff_notice, require_person
from bot.handlers.reading import (COUNT_WORDS, count, is_order_text, key_of, one_quantity, split_reason,
                                  step_word, take_order)
from bot.neutral import Reply
from bot.text import join_words, looks_like_number
from bot.errors import BadSyntax
from storage.production import hand_over


TO_WORDS = {"给", "交给", "到", "送", "送到", "送给", "转给"}   # before the workshop the parts go to
# instead of a number: what is made and not handed over yet (a number said beside it wins)
ALL_WORDS = {"全部", "全部的", "所有", "所有的", "剩下", "剩下的", "剩余", "剩余的", "余下的", "全交", "都交"}


def _is_destination(ctx: Context, order, name: str) -> bool:
    """Whether `name` is the step after this chat's own step of the order (where a batch goes)."""
    own = ctx.workshop_id()
    steps = list(order.steps)
    return any(s.workshop_id == own and i + 1 < len(steps) and ctx.is_step_name_of(steps[i + 1], name)
               for i, s in enumerate(steps))


def handle(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    args = list(args)
    if len(args) > 1 and not is_order_text(args[0]) and is_order_text(args[1]):
        args[0], args[1] = args[1], args[0]   # `交给焊接 SO-1001 30`: the workshop named before the order
    order, rest = take_order(ctx, args, digits_may_be_quantity=False)
    if order is None:
        raise BadSyntax(command="交接", problem="handoff")
    step_name, rest = step_word(ctx, [w for w in rest if w not in TO_WORDS])
    if step_name is not None and _is_destination(ctx, order, step_name):
        step_name = None   # `交接 SO-1001 30 焊接` from stamping: where the parts go, not who hands them over
    rest, note = split_reason(rest)   # `30 备注 外观已检`: the batch's note, for the next workshop
    all_of_it = any(key_of(w) in ALL_WORDS for w in rest)
    rest = [w for w in rest if key_of(w) not in ALL_WORDS]
    if step_name is None and len(rest) == 2 and not looks_like_number(rest[0]) and looks_like_number(rest[1]) \
            and key_of(rest[0]) not in COUNT_WORDS:
        step_name, rest = str(rest[0]), rest[1:]   # a step name we do not know: the order says so below
    limit = ctx.settings.app.max_report_quantity
    counted = count(rest, "交接", limit)
    # words after the number that are none of ours (`30 急用`): offered as the note, asked about first
    said = counted.unknown if counted.unknown and len(counted.unknown) <= counted.trailing else []
    quantity = one_quantity([w for w in rest if w not in said], "交接", limit)
    if quantity is None and not all_of_it:
        raise BadSyntax(command="交接", problem="missing_quantity")
    if said:
        ctx.doubt("unknown_words", words=join_words(said))
        note = " ".join(filter(None, [join_words(said), note]))[:200]
    step = ctx.step_for(order, step_name)
    noted = f" 备注 {note}" if note else ""
    amount = str(quantity) if quantity is not None else "全部"   # 全部: counted again under the lock
    shown = amount if quantity is not None else f"{amount} {max(step.good_qty - step.handed_qty, 0)}"
    ctx.read_as(f"{order.order_no} {order.product} {step.workshop.name} {shown} 件交给下道{noted}",
                f"交接 {order.order_no} {step.workshop.name} {amount}{noted}")
    handoff = hand_over(ctx.session, ctx.now, step_id=step.id, person=person, quantity=quantity,
                        source=ctx.message.source, note=note)
    handoff_notice(ctx, handoff)
    return Reply("handoff_ok", {"order_no": order.order_no, "product": order.product, "workshop": step.workshop.name,
                                "quantity": handoff.quantity, "to": handoff.to_step.workshop.name, "note": note,
                                "handed_total": handoff.from_step.handed_qty, "good_total": handoff.from_step.good_qty})
