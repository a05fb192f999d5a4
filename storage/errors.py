"""Errors a user can cause in the domain. Each carries a code and the data that explain it;
the bot layer (bot/errors.py) turns a code into words. Raising one rolls the whole action back.
"""
from __future__ import annotations

from typing import Any


class UserError(Exception):
    code = "generic"

    def __init__(self, **data: Any):
        super().__init__(self.code, data)
        self.data = data


class UnknownOrder(UserError):
    code = "unknown_order"  # order_no, suggestions


class QuantityOutOfRange(UserError):
    code = "quantity_out_of_range"  # quantity, limit, remaining, step


class NotAllowed(UserError):
    code = "not_allowed"  # action, reason


class StepNotFound(UserError):
    code = "step_not_found"  # order_no, hint


class StepNotReady(UserError):
    code = "step_not_ready"  # order_no, workshop, status


class NothingToUndo(UserError):
    code = "nothing_to_undo"  # reason


class NoPendingHandoff(UserError):
    code = "no_pending_handoff"  # order_no, workshop


class UnknownWorkshop(UserError):
    code = "unknown_workshop"  # name, known


class NoOpenIncident(UserError):
    code = "no_open_incident"  # order_no, workshop


class NothingToHandOver(UserError):
    code = "nothing_to_hand_over"  # order_no, workshop, available


class UnknownRequest(UserError):
    code = "unknown_request"  # request_id


class RequestDecided(UserError):
    code = "request_decided"  # request_id, status, decider


class UnknownProduct(UserError):
    code = "unknown_product"  # product, known


class OrderNotActive(UserError):
    """The order's state forbids the action (paused, cancelled, done …)."""
    code = "order_not_active"  # order_no, status, action


class BadOrderNumber(UserError):
    code = "bad_order_number"  # order_no, problem (empty/too_long/characters), limit


class DuplicateRequest(UserError):
    code = "duplicate_request"  # request_id, order_no, kind


class OrderExists(UserError):
    """An approved rush order's number was taken meanwhile (import, API, another product)."""
    code = "order_exists"  # order_no, request_id, product


class QuantityBelowProduced(UserError):
    code = "quantity_below_produced"  # order_no, quantity, produced, workshop, request_id


class DueDatePassed(UserError):
    code = "due_date_passed"  # request_id, due_date (MM-DD), order_no


class SelfApproval(UserError):
    code = "self_approval"  # request_id


class NothingToSettle(UserError):
    code = "nothing_to_settle"  # order_no, workshop


class CannotCorrect(UserError):
    code = "cannot_correct"  # report_id, reason, + details
