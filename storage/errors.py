"""Errors a user can cause. Each names the reply template that explains it in Chinese.

The message text lives in `bot/templates/replies/error_<template>.md.j2`; the attributes
of the error are the template's context. Raising one rolls the whole action back.
"""
from __future__ import annotations


class UserError(Exception):
    template = "generic"
    asks = False  # True: not a refusal but a question back (a button cannot carry a number or a reason)

    def __init__(self, **context):
        super().__init__(self.template, context)
        self.context = context


class UnknownOrder(UserError):
    template = "unknown_order"  # order_no, suggestions


class UnknownCommand(UserError):
    template = "unknown_command"  # word


class BadSyntax(UserError):
    template = "bad_syntax"  # command, problem


class QuantityOutOfRange(UserError):
    template = "quantity_out_of_range"  # quantity, limit, remaining, step


class NotAllowed(UserError):
    template = "not_allowed"  # action, reason


class UnknownPerson(UserError):
    template = "unknown_person"


class StepNotFound(UserError):
    template = "step_not_found"  # order_no, hint


class StepNotReady(UserError):
    template = "step_not_ready"  # order_no, workshop, status


class NothingToUndo(UserError):
    template = "nothing_to_undo"  # reason


class NoPendingHandoff(UserError):
    template = "no_pending_handoff"  # order_no, workshop


class UnknownWorkshop(UserError):
    template = "unknown_workshop"  # name, known


class NoOpenIncident(UserError):
    template = "no_open_incident"  # order_no, workshop


class NothingToHandOver(UserError):
    template = "nothing_to_hand_over"  # order_no, workshop, available


class AskForQuantity(UserError):
    """Not a mistake: a button cannot say how many arrived, so the lead is asked to type it."""
    template = "ask_for_quantity"  # order_no, quantity
    asks = True


class UnknownRequest(UserError):
    template = "unknown_request"  # request_id


class RequestDecided(UserError):
    template = "request_decided"  # request_id, status, decider


class AskForReason(UserError):
    """Not a mistake: 驳回 needs a reason, which a button cannot carry."""
    template = "ask_for_reason"  # request_id
    asks = True


class UnknownProduct(UserError):
    template = "unknown_product"  # product, known
