"""The approval card's buttons: 同意 decides (under the policy); 驳回 asks for the reason."""
from __future__ import annotations

from bot.cards import CardClick
from bot.handlers.base import ClickContext, Note, decide
from bot.handlers.requests import decision_effects, policy_of
from bot.errors import AskForReason
from storage.errors import NotAllowed
from storage.models import Card as CardRow
from storage.requests import decide_request, lock_request


def approve(ctx: ClickContext, row: CardRow, click: CardClick) -> Note:
    request = decide_request(ctx.session, ctx.now, request_id=row.subject_id, person=ctx.person, approve=True,
                             reason="", policy=policy_of(ctx), source=click.source,
                             utc_offset=ctx.clock.utc_offset())
    if request.status == "pending":  # the "all" policy: this vote is stored, others must agree too
        return "request_vote", {"request_id": request.id, "status": "pending", "approve": True}
    decide(row, ctx.person, "approve", ctx.now)
    decision_effects(ctx, request)
    return None


def reject(ctx: ClickContext, row: CardRow, click: CardClick) -> Note:
    request = lock_request(ctx.session, row.subject_id)
    policy = policy_of(ctx)
    allowed = ctx.person.id in policy.approver_ids if policy.approver_ids else ctx.person.has_role("manager")
    if not allowed:
        raise NotAllowed(action="approve", workshop="")
    raise AskForReason(request_id=request.id)
