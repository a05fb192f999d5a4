"""Reading a message as a command, as leads really type (or say) it: the command word first,
glued to the order or after it, or left out where the rest can only be a report; the answer to
the question the bot asked last (`是`, `396`, `SO-1013`); and a confirmation asked instead of
applying whenever the reading is a guess. Nothing is applied on a guess."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.handlers.receive import BATCH_MARK
from bot.errors import (Ask, AskForQuantity, AskForReason, NeedsConfirmation, NothingToConfirm, TwoCommands,
                        UnknownCommand, UnknownPerson)
from bot.handlers.base import Command, CommandTable, Context, Reading
from bot.handlers.reading import (COUNT_WORDS, FILLERS, GOOD_WORDS, NOTE_WORDS, SCRAP_WORDS, is_order_text, key_of,
                                  lexicon, split_reason, workshop_words)
from bot.handlers.progress import asks_about_order
from bot.handlers.receive import RECEIVED_WORDS
from bot.neutral import ChatMessage, Reply
from bot.text import Word, is_quantity, is_unit, join_words, looks_like_number, tokenize
from storage.workers import known_words
from storage import questions
from storage.errors import UserError
from storage.models import Person

QUESTION_TTL = timedelta(minutes=10)
YES = {"是", "是的", "对", "对的", "确认", "确定", "好", "好的", "没错", "嗯", "行", "可以", "ok", "okay", "yes", "y"}
NO = {"不", "不是", "否", "不对", "错了", "取消", "算了", "作废", "不要", "no", "n"}
ACK = {"收到", "收到了", "好的", "知道了", "好的知道了", "好的收到", "知悉", "已知悉", "明白", "明白了"}
VERBS = {"报工": "报", "异常": "报异常", "插单": "提插单", "变更": "提变更", "知悉": "知悉"}
DROPPED = "\0dropped"
# what people say before the command itself: `麻烦登记一下异常 …`, `查一下 SO-1013 进度`, `帮我设一下班组 …`
LEAD_WORDS = {"登记", "查", "查询", "查查", "看", "看看", "设", "设置", "问", "问下", "查下", "上报", "提交", "提个"}
# what people end a message with (`报工 SO-1013 120 谢谢`, `… 辛苦了`): no word of the command, nor its note
SIGN_OFFS = {"谢谢", "谢了", "谢啦", "多谢", "感谢", "谢谢了", "谢谢啦", "谢谢你", "谢谢大家", "辛苦", "辛苦了", "辛苦啦",
             "辛苦大家", "麻烦了", "拜托", "拜托了", "thx", "thanks", "3q"}
_PARTICLES = {"了", "啦", "啊", "呀", "哈", "哦", "嗯"}
# asking what is left for a workshop (`焊接还有多少没做`, `我们车间还有哪些单`): its queue
QUEUE_QUESTIONS = ("还有多少", "还有啥", "还有什么", "哪些单", "什么活", "啥活", "有活", "待办", "排产", "要做什么")


def chat_of(message: ChatMessage) -> str:
    """Where a question was asked: one chat on one platform (a direct chat is the person's own)."""
    return f"{message.platform}:{message.chat_id or 'direct'}"


class Reader:
    """Turns a message into a command run, with the person's open question in mind."""

    def __init__(self, commands: CommandTable):
        self.commands = commands

    def take_question(self, session: Session, ctx: Context) -> questions.Asked | None:
        """The question this message may answer; taken (so dropped) whatever the message says.
        Called outside the message's savepoint: a refused message still drops it."""
        if ctx.person is None:
            return None
        return questions.take(session, ctx.now, person_id=ctx.person.id, chat=chat_of(ctx.message))

    def dispatch(self, ctx: Context, asked: questions.Asked | None) -> Reply:
        """Run the command the message means; raise `NeedsConfirmation` (after running it, so
        that its savepoint is rolled back) when the reading is in doubt."""
        lex = lexicon(ctx)
        people = known_words(ctx.session) if "@" in ctx.message.text else ()   # workers @-mentioned
        words = without_sign_off(tokenize(ctx.message.text, lex, people))
        answer: str | None = None
        if asked is not None:
            answer = self._answer(ctx, asked, words)
            if answer is None and people and asked.kind == "worker":
                # the worker asked for, tapped right after the bot (`@产线接力 @王五`): a mention
                # before the first word is otherwise someone addressed (`@产线接力 @王主任 好的`)
                answer = self._answer(ctx, asked, tokenize(ctx.message.text, lex, people, leading_mentions=True))
            if answer == DROPPED:
                return Reply("question_dropped", {"reading": asked.reading})
            if answer is not None:
                words = tokenize(answer, lex)
        if not words:
            return Reply("voice_unclear" if ctx.message.spoken else "help", {"known": ctx.person is not None})
        if answer is None:   # the message itself, not the command its answer completes
            self._one_command(ctx.session, ctx.message.text, lex)
        command, args, guessed = self.recognise(ctx, words)
        if command.needs_person and ctx.person is None:
            raise UnknownPerson(sender=ctx.message.sender_id)
        if guessed:
            ctx.doubt("guessed_command", command=command.name)
        if ctx.message.spoken and not command.reads_only:
            ctx.doubt("spoken")
        reply = command.handler(ctx, args)
        if ctx.doubts and not ctx.confirmed:
            said = join_words([command.name, *args])
            reading = ctx.reading or Reading(text=said, command=said)
            raise NeedsConfirmation(verb=VERBS.get(command.name, command.name), reading=reading.text,
                                    command=reading.command, reasons=list(ctx.doubts))
        return reply

    def _one_command(self, session: Session, text: str, lex: list[str]) -> None:
        """Refuse two commands in one message (`报工 SO-1013 120` and `报工 SO-1016 30` on two
        lines, or split by `；`): which one was meant, or were both? A command written across
        lines (`报工` / `SO-1013` / `120`) is one."""
        if "\n" not in text and "；" not in text and ";" not in text:
            return
        starts = []
        for part in re.split(r"[\n；;]+", text):
            words = [w for w in tokenize(part, lex) if key_of(w) not in FILLERS | LEAD_WORDS]
            if words and self.commands.find(words[0]) is not None and (not starts or any(
                    is_order_text(w) and not looks_like_number(w) and _is_order(session, w) for w in words[1:3])):
                # after the first, a command word counts only with an order of its own right after it
                # (`…坏了；停线`, `…\n故障代码E05` are said of the first)
                starts.append(part.strip())
        if len(starts) > 1:
            raise TwoCommands(first=starts[0], second=starts[1])

    def recognise(self, ctx: Context, words: list[Word]) -> tuple[Command, list[Word], bool]:
        """(command, its words, guessed): the command word first, after fillers, after the order
        (`SO-1013 报工 5`); an acknowledgement (`收到`, `好的 知道了`); else, in a workshop's chat,
        an order or a 良品/不良 word with a number is a report, guessed."""
        find = self.commands.find
        said = "".join(words).lower()
        if said in ACK and (command := find("知悉")) is not None:
            return command, [], False
        lead = [w for w in words]
        while lead and key_of(lead[0]) in FILLERS | LEAD_WORDS and find(lead[0]) is None:
            lead = lead[1:]
        if lead and (command := find(lead[0])) is not None:
            return command, _after_fillers(lead[1:]), False
        if len(lead) == 1 and is_order_text(lead[0]) and not looks_like_number(lead[0]) \
                and (command := find("进度")) is not None:   # `SO-1013`, `帮我查下 SO-1013`: where it stands
            return command, lead, False
        if len(lead) >= 2 and is_order_text(lead[0]):
            # the command word after the order, maybe after fillers or a word or two (`SO-1017 已恢复`,
            # `SO-1017 设备修好了 恢复生产`)
            # (the last such word: `SO-1017 设备故障已修好` resumes, it does not open 故障)
            at = next((i for i in range(min(len(lead), 4) - 1, 0, -1) if find(lead[i]) is not None
                       and not any(looks_like_number(w) for w in lead[1:i])), None)
            if at is not None:
                command = find(lead[at])
                assert command is not None
                return command, [lead[0], *_after_fillers(lead[1:at] + lead[at + 1:])], False
            if asks_about_order(lead[1:]) and (command := find("进度")) is not None:   # `SO-1013 什么时候能好`
                return command, [lead[0]], False
        shops = workshop_words(ctx)
        if lead and not any(looks_like_number(w) for w in lead) and any(q in said for q in QUEUE_QUESTIONS) \
                and (command := find("待办")) is not None:
            return command, [w for w in lead if w in shops][:1], False
        if said in YES | NO:
            raise NothingToConfirm()
        report = find("报工")
        if report is not None and ctx.workshop_id() is not None and _reads_like_report(lead):
            return report, lead, True
        raise UnknownCommand(word=str(words[0])[:20])

    def _answer(self, ctx: Context, asked: questions.Asked, words: list[Word]) -> str | None:
        """The command this message runs as the answer to `asked`, DROPPED for a no, or None
        when it answers nothing (then it is read on its own and the question is gone)."""
        said = "".join(words).lower()
        if asked.kind == "confirm":
            if said in YES:
                ctx.confirmed = True
                return asked.command
            return DROPPED if said in NO else None
        if said in NO:
            return DROPPED
        if asked.kind == "quantity" and words:   # `实收 九十六 件` too; for a batch `就96个`, `少4个 原因 磕碰`
            head, _ = split_reason(words)
            around = RECEIVED_WORDS if asked.command.startswith("接收") else frozenset()
            if head and _only_quantities(head, around):
                return asked.command.replace("{}", join_words(words))
        if not words or self.commands.find(words[0]) is not None:
            return None
        if asked.kind == "order" and len(words) == 1 and is_order_text(words[0]):
            return asked.command.replace("{}", str(words[0]))
        if asked.kind == "worker" and len(words) == 1:   # a worker's name, or a user id among namesakes
            return asked.command.replace("{}", str(words[0]))
        if asked.kind == "text" and not is_order_text(words[0]):
            # a rejection cannot be taken back: whatever was said next (`按错了`, a remark in
            # another chat) is read as its reason only once the person confirms it
            ctx.doubt("reason_answer")
            return asked.command.replace("{}", join_words(words))
        return None

    def remember(self, session: Session, ctx: Context, error: UserError | None) -> None:
        """Keep the question this message ended with, for the person's next message."""
        if ctx.person is None or error is None:
            return
        ask(session, ctx.now, ctx.person, chat_of(ctx.message), error, ctx.message.source)


def ask(session: Session, now: datetime, person: Person, chat: str, error: UserError, source: str) -> None:
    """Store the question an error asks (a confirmation, a number, a reason), if it asks one."""
    question = question_of(error)
    if question is None:
        return
    kind, command, reading = question
    questions.ask(session, now, person_id=person.id, chat=chat, kind=kind, command=command, reading=reading,
                  source=source, ttl=QUESTION_TTL)


def question_of(error: UserError) -> tuple[str, str, str] | None:
    """(kind, command with `{}` for the answer, reading) of a question, None for a refusal."""
    data = error.data
    if isinstance(error, NeedsConfirmation):
        return "confirm", data["command"], data["reading"]
    if isinstance(error, Ask) and data.get("command"):
        return data["kind"], data["command"], data["reading"]
    if isinstance(error, AskForQuantity):   # a card's batch is named, so that the answer disputes that one
        batch = f" {BATCH_MARK}{data['handoff_id']}" if data.get("handoff_id") else ""
        return "quantity", f"接收 {data['order_no']} {{}}{batch}", f"{data['order_no']} 实收数量"
    if isinstance(error, AskForReason):
        return "text", f"驳回 REQ-{data['request_id']} 原因 {{}}", f"驳回 REQ-{data['request_id']} 的原因"
    return None


def _is_order(session: Session, word: str) -> bool:
    """Whether `word` is the number of an order there is (not a fault code or a machine: `E05`)."""
    from sqlalchemy import select

    from storage.models import Order
    from storage.orders import normalize_order_no
    return session.scalar(select(Order.id).where(Order.order_no == normalize_order_no(word))) is not None


def without_sign_off(words: list[Word]) -> list[Word]:
    """The words before the thanks a message ends with (`… 120，谢谢！`, `… 辛苦了`). A message of
    thanks alone, thanks glued to the word before, and anything after a note word (`备注 谢谢`,
    `原因 … 谢谢`: the note is what was written) stay as they are."""
    end = len(words)
    while end > 1:
        word, key = words[end - 1], key_of(words[end - 1])
        if key in _PARTICLES and end > 2 and key_of(words[end - 2]) in SIGN_OFFS:
            end -= 1
        elif key in SIGN_OFFS and not (word.glued and key_of(words[end - 2]) not in SIGN_OFFS):
            end -= 1
        else:
            break
    if end == len(words) or any(key_of(w) in NOTE_WORDS for w in words[:end]):
        return words
    return words[:end]


def _after_fillers(args: list[Word]) -> list[Word]:
    """A command's words without the fillers said right after it (`恢复一下 SO-1017`)."""
    while args and key_of(args[0]) in FILLERS and not is_order_text(args[0]):
        args = args[1:]
    return args


def _only_quantities(words: list[Word], around: frozenset[str] = frozenset()) -> bool:
    allowed = GOOD_WORDS | SCRAP_WORDS | COUNT_WORDS | FILLERS | around
    return any(is_quantity(w) for w in words) and all(
        looks_like_number(w) or is_unit(w) or key_of(w) in allowed for w in words)


def _reads_like_report(words: list[Word]) -> bool:
    if not any(looks_like_number(w) for w in words):
        return False
    keys = {key_of(w) for w in words}
    return is_order_text(words[0]) or bool(keys & (GOOD_WORDS | SCRAP_WORDS | COUNT_WORDS))
