"""The approval card's buttons: 同意 decides (under the policy); 驳回 asks for the reason."""
from __future__ import annotations

from bot.cards import CardClick
from bot.handlers.base import Context, card_action, decide
from bot.handlers.requests import decision_effects, policy_of
from storage.errors import AskForReason, NotAllowed
from storage.models import Card as CardRow
from storage.requests import decide_request, lock_request


@card_action("approval", "approve")
def approve(ctx: Context, row: CardRow, click: CardClick) -> None:
    request = decide_request(ctx.session, ctx.now, request_id=row.subject_id, person=ctx.person, approve=True,
                             reason="", policy=policy_of(ctx), source=f"{click.platform}:card:{click.track_id}",
                             utc_offset=ctx.clock.utc_offset())
    if request.status == "pending":  # the "all" policy: this vote is stored, others must agree too
        return "request_vote", {"request_id": request.id, "status": "pending", "approve": True}
    decide(row, ctx.person, "approve", ctx.now)
    decision_effects(ctx, request)
    return None


@card_action("approval", "reject")
def reject(ctx: Context, row: CardRow, click: CardClick) -> None:
    request = lock_request(ctx.session, row.subject_id)
    policy = policy_of(ctx)
    allowed = ctx.person.id in policy.approver_ids if policy.approver_ids else ctx.person.has_role("manager")
    if not allowed:
        raise NotAllowed(action="approve", workshop="")
    raise AskForReason(request_id=request.id)
