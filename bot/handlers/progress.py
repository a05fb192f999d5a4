"""进度 SO-1001 · 进度"""
from __future__ import annotations

from bot.handlers.base import Context
from bot.neutral import Reply
from bot.errors import BadSyntax
from storage.incidents import open_incidents
from storage.models import Workshop
from bot.handlers.reading import take_order
from bot.text import join_words
from storage.errors import UnknownOrder
from storage.views import active_steps, order_view


# a question about an order, asked without 进度 (`SO-1013 什么时候能好`, `SO-1014 还差多少`)
QUESTION_WORDS = ("什么时候", "啥时候", "几时", "多少", "怎么样", "什么情况", "啥情况", "情况", "到哪", "哪一步",
                  "能按时", "能不能按时", "按时交", "完成了吗", "好了吗", "做完了吗", "开工", "进度", "进展")


def asks_about_order(words: list[str]) -> bool:
    """Whether the words after an order number ask about it (and carry no number to book)."""
    said = "".join(words)
    return any(q in said for q in QUESTION_WORDS) and not any(c.isdigit() for c in said)


def handle(ctx: Context, args: list[str]) -> Reply:
    if args:
        order, rest = take_order(ctx, list(args), digits_may_be_quantity=False)
        if order is None:
            raise UnknownOrder(order_no=join_words(args)[:40], suggestions=[])
        names = {w.name for s in order.steps for w in [s.workshop]}
        rest = [w for w in rest if w not in names] if not asks_about_order(rest) else []   # `进度 SO-1014 焊接`
        if rest:
            raise BadSyntax(command="进度", problem="too_many", token=rest[0])
        found = open_incidents(ctx.session, [s.id for s in order.steps])
        texts = {i: [f"{x.category} · {x.description}" for x in found.get(s.id, [])] for i, s in enumerate(order.steps)}
        return Reply("cards/progress", {"order": order_view(order, ctx.now), "open_incidents": texts})
    workshop_id = ctx.workshop_id()
    if workshop_id is None:
        raise BadSyntax(command="进度", problem="no_workshop")
    workshop = ctx.session.get(Workshop, workshop_id)
    return Reply("progress_workshop", {"workshop": workshop.name,
                                       "items": active_steps(ctx.session, workshop_id, ctx.now)})
