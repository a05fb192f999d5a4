"""@-mentions in notices, platform-free: a template marks a person (`{{ person|at }}`), and each
platform turns the mark into its own mention where it can (WeCom `<@userid>`, DingTalk `@userid`
with `at.atUserIds`), or into the plain name `@张伟` where it cannot."""
from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Callable, Iterable

MARK = re.compile(r"<@lr:(\d+)\|([^<>|\n]*)>")


@dataclass(frozen=True)
class Mention:
    """A person a notice @-mentions, as one platform knows them."""
    person_id: int
    user_id: str         # their user id on the platform
    name: str


def mark(person_id: int, name: str) -> str:
    """The platform-free mark of a mention (what `{{ person|at }}` writes)."""
    clean = re.sub(r"[<>|\n]", "", name)
    return f"<@lr:{person_id}|{clean}>"


def marked(text: str) -> list[int]:
    """The people a text marks, in order, each once."""
    seen: list[int] = []
    for match in MARK.finditer(text):
        person_id = int(match.group(1))
        if person_id not in seen:
            seen.append(person_id)
    return seen


def render(text: str, mentions: Iterable[Mention], token: Callable[[Mention], str]) -> str:
    """Each mark as the platform's `token` for a person it can mention, else as `@name`."""
    known = {m.person_id: m for m in mentions}

    def one(match: re.Match) -> str:
        mention = known.get(int(match.group(1)))
        return token(mention) if mention is not None else f"@{match.group(2)}"
    return MARK.sub(one, text)


def as_names(text: str) -> str:
    """Every mark as the plain name (`@张伟`): for channels that cannot mention anyone."""
    return render(text, (), lambda m: f"@{m.name}")
