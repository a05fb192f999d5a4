"""插单 SO-2001 车门总成 500 交期 11-28 原因 主机厂急单 · 变更 SO-1001 数量 1200 / 交期 12-05 / 暂停 /
继续 / 取消 [原因 …] · 同意 REQ-7 · 驳回 REQ-7 原因 …"""
from __future__ import annotations

import contextlib
import re
from datetime import date, timedelta

from sqlalchemy import select

from bot.cards import Button, Card
from bot.handlers.base import ActionContext, Context
from bot.handlers.common import handoff_notice, require_person
from bot.neutral import Reply
from bot.handlers.reading import (COUNT_WORDS, key_of, new_order_number, one_quantity, same_number, skip_fillers,
                                  split_reason, take_order)
from bot.text import UNITS, Word, join_words, looks_like_number, number_value, parse_quantity
from bot.errors import AskForReason, BadSyntax
from bot.timewords import RELATIVE_DAY, relative_day
from storage.errors import UnknownProduct
from storage.models import ChangeRequest, Handoff, Order, Person, Route, Step, Workshop
from storage.requests import Policy, decide_request, file_request, may_decide, needed
from storage.views import workshop_queue

CHANGE_WORDS = {"数量": "quantity", "改数量": "quantity", "交期": "due_date", "交货期": "due_date", "改交期": "due_date",
                "延期到": "due_date", "推迟到": "due_date", "提前到": "due_date", "延期": "due_date", "推迟": "due_date",
                "暂停": "pause", "暂停生产": "pause", "继续": "resume", "继续生产": "resume", "恢复": "resume",
                "恢复生产": "resume", "取消": "cancel", "取消订单": "cancel"}
CHANGE_LEAD = {"改", "把", "将"}            # `改交期 12-05`, `把数量改成1200`: before the kind word
CHANGE_TAIL = {"生产", "订单", "一下"}       # `暂停生产`, `取消订单`: after it, saying nothing more
FROM_WORDS = {"从", "由", "原来", "原"}      # `数量 从200改成1200`: the old number goes with these
PRODUCT_LABELS = {"产品", "品名", "型号", "零件"}   # `插单 SO-2001 产品 车门总成 数量 500`
DUE_WORDS = {"交期", "交货期", "交货", "交货日期", "货期", "要货", "交付"}
URGENT_WORDS = {"急", "加急", "急单", "紧急", "特急", "很急", "急件", "着急"}   # said as the reason, when none is
KIND_WORDS = {"rush": "插单", "quantity": "改数量", "due_date": "改交期", "pause": "暂停", "resume": "继续生产",
              "cancel": "取消订单"}


PAST_DAYS = 31   # a month-day this recent is this year's, and so in the past; earlier, next year's
_DUE_END = r"(?:之前|以前|前)?(?:交货|交付|交|到货|要货|要)?"   # `12月20号前交`: said after the date
_DUE_DATE = re.compile(r"(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})[日号]?" + _DUE_END)
_DUE_DAY = re.compile(r"(\d{1,2})[日号]" + _DUE_END)                         # `20号`: the next 20th
_DUE_RELATIVE = re.compile(f"(?:{RELATIVE_DAY.pattern})" + _DUE_END)   # `下周五前`, `明天交`
_DUE_MONTH_END = re.compile(r"(下个?|本|这个?)?月[底末]" + _DUE_END)
_CN_DATE_NUMBER = re.compile(r"[零〇一二两三四五六七八九十]+(?=[月日号])")
MORE_WORDS = {"增加": 1, "加": 1, "多加": 1, "追加": 1, "加上": 1, "减少": -1, "减": -1, "减掉": -1, "少": -1}
NO_CHANGE = {"不变", "数量不变", "其他不变", "其它不变", "其余不变"}   # `交期 12-05 数量不变`
TO_WORDS = {"改到", "改成", "改为", "到", "为", "调到", "调整到", "调整为"}   # `交期 从12-15改到12-20`


def is_due(text: str) -> bool:
    """Whether `text` is a due date as planners write it (`12-20`, `12月20号前交`, `下周五`, `月底`)."""
    return any(p.fullmatch(_arabic(text)) for p in (_DUE_DATE, _DUE_DAY)) \
        or any(p.fullmatch(text) for p in (_DUE_RELATIVE, _DUE_MONTH_END))


def parse_due(token: str, today: date, command_word: str) -> date:
    """`11-28`, `2026-11-28`, `11/28`, `11月28日`, `28号` (the next 28th), `下周五`, `月底`, `明天`
    (each maybe with 前/交货 after it): a date within a year from today."""
    due = _due(token, today)
    if due is None or due < today or (due - today).days > 366:
        raise BadSyntax(command=command_word, problem="due_date", token=token)
    return due


def _arabic(token: str) -> str:
    """`十二月二十日` → `12月20日` (numerals before 月, 日 or 号; `周五` stays)."""
    return _CN_DATE_NUMBER.sub(lambda m: str(number_value(m.group()) or m.group()), token)


def _due(token: str, today: date) -> date | None:
    if match := _DUE_DATE.fullmatch(_arabic(token)):
        year = int(match.group(1) or today.year)
        try:
            due = date(year, int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
        if not match.group(1) and (today - due).days > PAST_DAYS:   # `01-05` in November: next year's
            try:                                                       # (`11-24` the day after: past, refused)
                due = due.replace(year=year + 1)
            except ValueError:   # 02-29 of a leap year: next year has none
                return None
        return due
    if match := _DUE_DAY.fullmatch(_arabic(token)):
        day = int(match.group(1))
        month = today.replace(day=1)
        for _ in range(2):   # this month's, or the next month's once this one's has passed
            with contextlib.suppress(ValueError):
                if (due := month.replace(day=day)) >= today:
                    return due
            month = _next_month(month)
        return None
    if match := _DUE_RELATIVE.fullmatch(token):
        return relative_day(match, today)
    if match := _DUE_MONTH_END.fullmatch(token):
        month = today.replace(day=1)
        if (match.group(1) or "").startswith("下"):
            month = _next_month(month)
        return (month + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    return None


def _next_month(first: date) -> date:
    """The first of the month after the one `first` (a month's first day) begins."""
    return (first + timedelta(days=31)).replace(day=1)


def _due_words(words: list[Word]) -> tuple[str, list[Word], list[Word]]:
    """The due date written from the first word on, what follows it (前, 交货 said apart skipped),
    and the urgency words among what follows (`急`)."""
    text, after = _date_text(words)
    while after and re.fullmatch(_DUE_END, after[0]):   # `12-20 前交货`, `12-20 前 交货`
        after = after[1:]
    if after and "".join(after[-2:]) in NO_CHANGE:   # `数量不变`, read as one word or two
        after = after[:-2]
    elif after and after[-1] in NO_CHANGE:
        after = after[:-1]
    return text, [w for w in after if w not in URGENT_WORDS], [w for w in after if w in URGENT_WORDS]


def _with_urgency(reason: str, urgent: list[Word]) -> str:
    return reason or join_words(urgent)


def _order_end(words: list[Word]) -> int:
    """Where a new order's number as typed ends: the first word with what is glued to it
    (`SO-9001<b>` is one number, and not a valid one), up to any Chinese."""
    end = 1
    while end < len(words) and words[end].glued and words[end].isascii():
        end += 1
    if end == 1 and len(words) > 2 and words[0].isascii() and words[0].isalpha() and len(words[0]) <= 6 \
            and words[1].isascii() and words[1][:1].isdigit():
        end = 2   # `SO 2001`: one number typed with a space
    return end


def _date_text(words: list[Word]) -> tuple[str, list[Word]]:
    """The date written from the first word on (`11月28日` is cut into four glued words)."""
    if not words:
        return "", []
    end = 1
    while end < len(words) and words[end].glued:
        end += 1
    return join_words(words[:end]), words[end:]


def policy_of(ctx: ActionContext) -> Policy:
    names = ctx.settings.approvals.approvers
    # a listed approver who has left the plant (directory sync) is nobody: never waited for
    ids = tuple(ctx.session.scalars(select(Person.id).where(Person.name.in_(names), Person.active.is_(True))
                                    .order_by(Person.id))) if names else ()
    return Policy(mode=ctx.settings.approvals.policy, approver_ids=ids, allow_self=ctx.settings.approvals.allow_self)


def rush(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    words, reason = split_reason([w if isinstance(w, Word) else Word(w) for w in args])
    urgent = [w for w in words if w in URGENT_WORDS]
    words = [w for w in words if w not in URGENT_WORDS]
    first = _order_end(words) if words else 0
    # a 交期 word labels the date that follows it; one after the date (`12-20 交货`) is not a label
    at = next((i + 1 for i, w in enumerate(words) if i >= first and w in DUE_WORDS
               and is_due(_date_text(words[i + 1:])[0])), None)
    if at is None:   # no 交期 word: the first words shaped as a date (`500个 12月20号交`)
        at = next((i for i in range(first + 1, len(words)) if is_due(_date_text(words[i:])[0])), None)
    if at is None:
        raise BadSyntax(command="插单", problem="rush")
    due_text, after, late = _due_words(words[at:])
    # product and quantity around the date (`车门总成 交期 12-20 数量 500`, `交期 12-20 车门总成 500`)
    head = [w for w in words[first:at - (words[at - 1] in DUE_WORDS)] + after
            if key_of(w) not in COUNT_WORDS and w not in UNITS and w not in PRODUCT_LABELS]
    numbers = [i for i, w in enumerate(head) if looks_like_number(w)]
    if not numbers or numbers[-1] == 0:
        raise BadSyntax(command="插单", problem="rush")
    if head[numbers[-1] + 1:]:
        raise BadSyntax(command="插单", problem="unexpected", token=head[numbers[-1] + 1])
    reason = _with_urgency(reason, urgent + late)
    order_no, product = new_order_number(ctx, join_words(words[:first])), join_words(head[:numbers[-1]])
    quantity = parse_quantity(head[numbers[-1]], "插单", ctx.settings.app.max_report_quantity)
    due = parse_due(due_text, ctx.clock.today(), "插单")
    ctx.read_as(f"{order_no} {product} {quantity} 件 交期 {due:%m-%d}" + (f" 原因 {reason}" if reason else ""),
                f"插单 {order_no} {product} {quantity} 交期 {due.isoformat()}" + (f" 原因 {reason}" if reason else ""))
    if existing := same_number(ctx, order_no):   # `SO2001` when SO-2001 exists: the same order
        raise BadSyntax(command="插单", problem="exists", token=existing)
    if not ctx.session.scalar(select(Route.id).where(Route.product == product)):
        raise UnknownProduct(product=product, known=list(ctx.session.scalars(select(Route.product))))
    payload = {"order_no": order_no, "product": product, "quantity": quantity, "due_date": due.isoformat()}
    return _file(ctx, person, "rush", None, payload, reason)


def change(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    words, reason = split_reason([w if isinstance(w, Word) else Word(w) for w in args])
    words = [w for w in words if w not in CHANGE_LEAD]
    said_first = words[:1] if words and words[0] in CHANGE_WORDS else []   # `变更 交期 SO-1012 12-05`
    order, rest = take_order(ctx, words[len(said_first):], digits_may_be_quantity=False)
    start = next((i for i, w in enumerate(rest) if w in FROM_WORDS), None)
    to = next((i for i, w in enumerate(rest) if start is not None and i > start and w in TO_WORDS), None)
    if start is not None and to is not None:   # `交期 从12-15改到12-20`, `数量 从200改成1200`: the new one counts
        rest = rest[:start] + rest[to + 1:]
    rest = said_first + skip_fillers(rest)
    if order is None or not rest or rest[0] not in CHANGE_WORDS:
        raise BadSyntax(command="变更", problem="change")
    kind, rest = CHANGE_WORDS[rest[0]], rest[1:]
    while rest and (rest[0] in CHANGE_TAIL or kind == "due_date" and (rest[0] in DUE_WORDS or
                                                                     CHANGE_WORDS.get(rest[0]) == "due_date")):
        rest = rest[1:]   # `暂停生产`, `交期 提前到 12-01`
    if kind == "quantity":   # `从200改成1200`: the old number is said, the new one counts
        at = next((i for i, w in enumerate(rest) if w in FROM_WORDS), None)
        if at is not None and at + 1 < len(rest) and looks_like_number(rest[at + 1]):
            rest = rest[:at] + rest[at + 2:]
    payload: dict = {"order_no": order.order_no, "product": order.product}   # product: for the summary's words
    said = KIND_WORDS[kind]
    if kind == "quantity":
        sign = MORE_WORDS.get(rest[0], 0) if rest else 0   # `数量 增加100`: by that much
        payload["quantity"] = one_quantity(rest[1:] if sign else rest, "变更", ctx.settings.app.max_report_quantity)
        if payload["quantity"] and sign:
            payload["quantity"] = order.quantity + sign * payload["quantity"]
        if not payload["quantity"] or payload["quantity"] < 0:
            raise BadSyntax(command="变更", problem="change")
        said = f"数量 {payload['quantity']}"
    elif kind == "due_date":
        due_text, after, urgent = _due_words(skip_fillers(rest))
        if not due_text or after:
            raise BadSyntax(command="变更", problem="change")
        reason = _with_urgency(reason, urgent)
        payload["due_date"] = parse_due(due_text, ctx.clock.today(), "变更").isoformat()
        said = f"交期 {payload['due_date']}"
    elif rest:
        raise BadSyntax(command="变更", problem="unexpected", token=rest[0])
    ctx.read_as(f"{order.order_no} {order.product} {said}" + (f" 原因 {reason}" if reason else ""),
                f"变更 {order.order_no} {said}" + (f" 原因 {reason}" if reason else ""))
    return _file(ctx, person, kind, order, payload, reason)


def change_due(ctx: Context, args: list[str]) -> Reply:
    """`改交期 SO-1012 12-05`, `延期 SO-1012 12-30`: 变更 with the kind said as the command."""
    return change(ctx, [Word("交期"), *args])


def change_quantity(ctx: Context, args: list[str]) -> Reply:
    """`改数量 SO-1012 1200`."""
    return change(ctx, [Word("数量"), *args])


def _file(ctx: Context, person, kind: str, order, payload: dict, reason: str) -> Reply:
    payload["origin"] = {"platform": ctx.message.platform, "user_id": ctx.message.sender_id}
    request = file_request(ctx.session, ctx.now, kind=kind, order=order, payload=payload, reason=reason,
                           person=person, source=ctx.message.source)
    context = request_context(ctx, request, person.name)
    policy = policy_of(ctx)
    actors = "approvers:" + ",".join(map(str, policy.approver_ids)) if policy.approver_ids else "role:manager"
    card = Card(kind="approval", subject_id=request.id, title=f"{KIND_WORDS[kind]}审批", context=context,
                buttons=(Button("approve", "同意", command=f"同意 REQ-{request.id}"),
                         Button("reject", "驳回", "danger", command=f"驳回 REQ-{request.id} 原因 …")), actors=actors)
    ctx.notify_role("managers", "notices/request_filed", key=f"request:{request.id}:filed", card=card, **context)
    return Reply("request_filed", context)


def request_context(ctx: ActionContext, request: ChangeRequest, requester: str) -> dict:
    return {"request_id": request.id, "kind": KIND_WORDS[request.kind], "payload": request.payload,
            "impact": request.impact, "reason": request.reason, "requester": requester}


def decision_effects(ctx: ActionContext, request: ChangeRequest, handoffs: list[Handoff],
                     withdrawn: list[ChangeRequest]) -> None:
    """Once decided: every card about it closes; the requester is told; on approval every
    affected workshop's groups get the 计划变更 notice with their new queue. A cancellation
    also closes the cards of what can no longer be done: the order's other requests (their
    requesters are told) and its batches waiting to be received (their workshops are told in
    the notice)."""
    if request.status == "pending":
        return
    ctx.close_cards("approval", request.id, "approve" if request.status == "approved" else "reject")
    requester = ctx.session.get(Person, request.requester_id)
    context = {"request_id": request.id, "kind": KIND_WORDS[request.kind], "status": request.status,
               "decider": ctx.person.name, "reason": request.reason, "order_no": request.payload.get("order_no")}
    origin = request.payload.get("origin", {})
    ctx.notify_person(requester.id, origin.get("platform"), "notices/request_decided",
                      key=f"request:{request.id}:told", **context)
    if request.status != "approved":
        return
    for handoff in handoffs:  # a quantity change that completed the first step
        handoff_notice(ctx, handoff)
    order = ctx.session.get(Order, request.order_id)
    waiting: dict[int, int] = {}   # a cancelled order's batches nobody needs to receive, by step
    if request.kind == "cancel":
        for other in withdrawn:
            ctx.close_cards("approval", other.id, "cancelled")
            if other.requester_id is not None:
                ctx.notify_person(other.requester_id, other.payload.get("origin", {}).get("platform"),
                                  "notices/request_decided", key=f"request:{other.id}:told",
                                  **{**context, "request_id": other.id, "kind": KIND_WORDS[other.kind],
                                     "status": "withdrawn"})
        for handoff in ctx.session.scalars(select(Handoff).join(Handoff.to_step).where(
                Handoff.status == "pending", Step.order_id == order.id).order_by(Handoff.id)):
            ctx.close_cards("handoff", handoff.id, "cancelled")
            waiting[handoff.to_step_id] = waiting.get(handoff.to_step_id, 0) + handoff.quantity
    for step in order.steps:
        workshop = ctx.session.get(Workshop, step.workshop_id)
        queue = workshop_queue(ctx.session, step.workshop_id, ctx.now, limit=5, include_waiting=True)
        ctx.notify_workshop(step.workshop_id, "notices/plan_changed", key=f"request:{request.id}:plan:{step.workshop_id}",
                            workshop=workshop.name, items=queue, not_to_receive=waiting.get(step.id, 0), **context)


def show_votes(ctx: ActionContext, request: ChangeRequest) -> None:
    """Under the "all" policy a vote that does not decide yet shows on the open approval cards:
    who agreed, and whose approval is still awaited (the buttons stay)."""
    votes = request.payload.get("votes", {})
    agreed = [int(k) for k, v in votes.items() if v == "approve"]
    waiting = [int(k) for k in sorted(needed(request, policy_of(ctx))) if votes.get(k) != "approve"]
    names = {i: n for i, n in ctx.session.execute(select(Person.id, Person.name).where(Person.id.in_(agreed + waiting)))}
    requester = ctx.session.get(Person, request.requester_id)
    ctx.refresh_cards("approval", request.id, {**request_context(ctx, request, requester.name if requester else ""),
                                               "agreed": [names[i] for i in agreed if i in names],
                                               "waiting": [names[i] for i in waiting if i in names]})


def approve(ctx: Context, args: list[str]) -> Reply:
    return _decide(ctx, args, approve=True)


def reject(ctx: Context, args: list[str]) -> Reply:
    return _decide(ctx, args, approve=False)


def _decide(ctx: Context, args: list[str], approve: bool) -> Reply:
    person = require_person(ctx)
    word = "同意" if approve else "驳回"
    if len(args) > 1 and args[0].upper() == "REQ" and args[1].isdigit():   # `同意 REQ 1`
        args = [Word(f"REQ-{args[1]}"), *args[2:]]
    match = re.fullmatch(r"(?:REQ-?)?(\d{1,12})", args[0], re.I) if args else None
    words, reason = split_reason(args[1:]) if args else ([], "")
    reason = reason or join_words(words)[:200]   # as typed: `产能已满`, not `产能 已 满`
    if not match:
        raise BadSyntax(command=word, problem="decide")
    if not approve and not reason:   # `驳回 REQ-1`: asked for the reason, as the card's 驳回 does
        request = ctx.session.get(ChangeRequest, int(match.group(1)))
        if request is not None and request.status == "pending" and may_decide(person, policy_of(ctx)):
            raise AskForReason(request_id=request.id)
        raise BadSyntax(command=word, problem="decide")
    handoffs: list[Handoff] = []
    withdrawn: list[ChangeRequest] = []
    request = decide_request(ctx.session, ctx.now, request_id=int(match.group(1)), person=person, approve=approve,
                             reason=reason, policy=policy_of(ctx), source=ctx.message.source,
                             handoffs=handoffs, withdrawn=withdrawn)
    if request.status == "pending":
        show_votes(ctx, request)
    decision_effects(ctx, request, handoffs, withdrawn)
    return Reply("request_vote", {"request_id": request.id, "status": request.status, "approve": approve})
