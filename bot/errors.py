"""Errors of the chat layer (a command that does not parse, a question back), and the one place
that turns any user error, the domain's included, into the reply that explains it."""
from __future__ import annotations

from bot.neutral import Reply
from storage.errors import UserError


class UnknownCommand(UserError):
    code = "unknown_command"  # word


class BadSyntax(UserError):
    code = "bad_syntax"  # command, problem, token


class TwoCommands(UserError):
    """Two commands in one message (two lines, or split by `；`): neither is guessed at."""
    code = "two_commands"  # first, second (each as typed)


class UnknownPerson(UserError):
    code = "unknown_person"  # sender


class AskForQuantity(UserError):
    """Not a mistake: a button cannot say how many arrived, so the lead is asked to type it."""
    code = "ask_for_quantity"  # order_no, quantity, handoff_id (a card's own batch, or None)


class AskForReason(UserError):
    """Not a mistake: 驳回 needs a reason, which a button cannot carry."""
    code = "ask_for_reason"  # request_id


class NothingToAck(UserError):
    code = "nothing_to_ack"


class NothingToConfirm(UserError):
    code = "nothing_to_confirm"


class NeedsConfirmation(UserError):
    """Not a mistake: the reading is likely but not certain (a near order number, a guessed
    command, a repeat, an unusual quantity, speech); nothing is applied until the person confirms."""
    code = "confirm"  # verb, reading, command (what 是 runs), reasons [(kind, data)]


class Ask(UserError):
    """Not a mistake: something is missing (how many, which order); the next message can say it."""
    code = "ask"  # kind (quantity | order), reading, command (with {} for the answer), choices


QUESTIONS = (AskForQuantity, AskForReason, NeedsConfirmation, Ask)


def is_question(error: UserError) -> bool:
    """True when the error asks the person for more rather than refusing them."""
    return isinstance(error, QUESTIONS)


def error_reply(error: UserError) -> Reply:
    """The reply explaining an error: `bot/templates/errors/<code>.md.j2` with the error's data."""
    return Reply(template=f"errors/{error.code}", context=dict(error.data))
