"""The approval card's buttons: 同意 decides (under the policy); 驳回 asks for the reason."""
from __future__ import annotations

from bot.cards import CardClick
from bot.handlers.base import ClickContext, Note, decide
from bot.handlers.requests import decision_effects, policy_of, show_votes
from bot.errors import AskForReason
from storage.errors import NotAllowed, SelfApproval, UnknownRequest
from storage.models import Card as CardRow
from storage.models import ChangeRequest, Handoff
from storage.requests import decide_request, may_decide


def approve(ctx: ClickContext, row: CardRow, click: CardClick) -> Note:
    handoffs: list[Handoff] = []
    withdrawn: list[ChangeRequest] = []
    request = decide_request(ctx.session, ctx.now, request_id=row.subject_id, person=ctx.person, approve=True,
                             reason="", policy=policy_of(ctx), source=click.source,
                             handoffs=handoffs, withdrawn=withdrawn)
    if request.status == "pending":  # the "all" policy: this vote is stored, others must agree too
        show_votes(ctx, request)
        return "request_vote", {"request_id": request.id, "status": "pending", "approve": True}
    decide(row, ctx.person, "approve", ctx.now)
    decision_effects(ctx, request, handoffs, withdrawn)
    return None


def reject(ctx: ClickContext, row: CardRow, click: CardClick) -> Note:
    request = ctx.session.get(ChangeRequest, row.subject_id)
    if request is None:
        raise UnknownRequest(request_id=row.subject_id)
    policy = policy_of(ctx)
    if not may_decide(ctx.person, policy):
        raise NotAllowed(action="approve", workshop="")
    if request.requester_id == ctx.person.id and not policy.allow_self:
        raise SelfApproval(request_id=request.id)
    raise AskForReason(request_id=request.id)
