"""Reading who did the work from a message: workers named with or without their share
(`王五60 赵六60`, `王五 60`, `王五、赵六`, glued `王五赵六`). A name must be a person's; a word
that stands where a name would (`赵陆60`) but is nobody's is asked about, never guessed."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections.abc import Set as AbstractSet

from bot.errors import Ask
from bot.handlers.base import Context
from bot.handlers.reading import KEYWORDS, NOTE_WORDS, key_of, workshop_words
from bot.text import Word, looks_like_number, parse_quantity
from storage.models import Person
from storage.workers import known_words, people_named

_NAME_LIKE = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")   # how a Chinese name looks: two to four characters


@dataclass
class Worker:
    """A worker as typed: the word, the person it names (None: nobody, or more than one), the share."""
    word: str
    share: int | None
    people: list[Person] = field(default_factory=list)

    @property
    def person(self) -> Person | None:
        return self.people[0] if len(self.people) == 1 else None


@dataclass
class Named:
    workers: list[Worker]
    rest: list[Word]          # the words that are not workers or their shares


DID_WORDS = {"做了", "做", "干了", "干", "生产了", "完成了", "报"}


def take_workers(ctx: Context, words: list[Word], command: str, *, quantity_known: bool = False) -> Named:
    """Workers among `words` (up to a note word): a person's name, optionally followed by their
    share — glued (`王五60`) always, after a space once the report's own quantity was said or
    when names and numbers pair up (`王五 3 赵六 2`: 5 in all, never 3 with 王五's share made up).
    A name-like word that is nobody's is a worker to ask about when a share follows it or it
    stands among workers. `quantity_known`: the total is known already (a correction), so a
    number after a name is always its share."""
    others = KEYWORDS | workshop_words(ctx)
    if all(key_of(w) in others or looks_like_number(w) for w in words):
        return Named([], words)   # `报工 SO-1001 120 不良 2`: nobody named, no need to read the names
    names = known_words(ctx.session)
    # `王五做了3 赵六做了2`: the verb between a name and its share says nothing more
    words = [w for i, w in enumerate(words)
             if not (w in DID_WORDS and 0 < i < len(words) - 1 and looks_like_number(words[i + 1])
                     and _names_in(str(words[i - 1]), names))]
    workers: list[Worker] = []
    rest: list[Word] = []
    quantity_seen, after_worker, in_pairs = quantity_known, False, False
    i = 0
    while i < len(words):
        word = words[i]
        if key_of(word) in NOTE_WORDS:
            rest.extend(words[i:])
            break
        nxt = words[i + 1] if i + 1 < len(words) else None
        ours = key_of(word) in others or looks_like_number(word)
        parts = [] if ours else _names_in(str(word), names)
        number_next = nxt is not None and looks_like_number(nxt)
        # `王五 3 赵六 2`: names each followed by a number, one pair after another, are shares
        in_pairs = in_pairs or (bool(parts) and number_next and _pair_at(words, i + 2, names, others))
        share_next = number_next and nxt is not None and (nxt.glued or quantity_seen or (in_pairs and bool(parts)))
        if not parts and not ours and _NAME_LIKE.match(word) and (share_next or after_worker):
            parts = [str(word)]     # nobody's name, where a name would be: asked about below
        if not parts:
            quantity_seen = quantity_seen or looks_like_number(word)
            rest.append(word)
            after_worker = False
            i += 1
            continue
        for name in parts[:-1]:
            workers.append(Worker(name, None))
        share = parse_quantity(nxt, command, ctx.settings.app.max_report_quantity) if share_next and nxt else None
        workers.append(Worker(parts[-1], share))
        i += 2 if share_next else 1
        after_worker = True
    _resolve(ctx, workers)
    return Named(workers, rest)


def _pair_at(words: list[Word], at: int, names: AbstractSet[str], others: set[str]) -> bool:
    """Whether a person's name followed by a number stands at `at`."""
    if at + 1 >= len(words) or not looks_like_number(words[at + 1]):
        return False
    word = words[at]
    return key_of(word) not in others and not looks_like_number(word) and bool(_names_in(str(word), names))


def _names_in(word: str, names: AbstractSet[str]) -> list[str]:
    """The people's names this word is: one name, or names written together (`王五赵六`)."""
    if word in names:
        return [word]
    if not _is_cjk(word):
        return []
    for cut in range(2, len(word) - 1):
        head = word[:cut]
        if head in names:
            tail = _names_in(word[cut:], names)
            if tail:
                return [head, *tail]
    return []


def _is_cjk(word: str) -> bool:
    return bool(word) and all("\u4e00" <= c <= "\u9fff" or c == "·" for c in word)


def _resolve(ctx: Context, workers: list[Worker]) -> None:
    found = people_named(ctx.session, [w.word for w in workers])
    for worker in workers:
        worker.people = found.get(worker.word, [])


def ask_unknown(ctx: Context, workers: list[Worker], *, reading: str, command: str) -> None:
    """Ask about the first worker who is nobody (or one of several people of that name): the
    answer (a name, or a user id among namesakes) takes its place in `command`, where `{}` stands
    for the workers' part of it."""
    for index, worker in enumerate(workers):
        if worker.person is not None:
            continue
        part = workers_text(workers, ask_at=index)
        choices = [f"{p.name}（{_account(p, ctx.message.platform)}）" for p in worker.people]
        if not choices:
            choices = _namesakes(ctx, worker.word)
        raise Ask(kind="worker", reading=reading, command=command.replace("{}", part), choices=choices,
                  name=worker.word, namesakes=len(worker.people) > 1)


def _account(person: Person, platform: str) -> str:
    """How to tell this person from a namesake: their user id here, else on another platform."""
    ids = [i.user_id for i in person.identities]
    return person.user_id(platform) or (ids[0] if ids else f"#{person.id}")


def _namesakes(ctx: Context, word: str) -> list[str]:
    """People of the same family name, as a hint (never taken for the word)."""
    from sqlalchemy import select
    names = ctx.session.scalars(select(Person.name).where(Person.name.startswith(word[:1], autoescape=True)))
    return sorted({n for n in names if n != word})[:5]


def workers_text(workers: list[Worker], ask_at: int | None = None) -> str:
    """The workers as a command writes them (`王五 60 赵六 60`); `{}` at the one asked about."""
    out = []
    for index, worker in enumerate(workers):
        name = "{}" if index == ask_at else (worker.word if worker.person is None else worker.person.name)
        out.append(name if worker.share is None else f"{name} {worker.share}")
    return " ".join(out)
