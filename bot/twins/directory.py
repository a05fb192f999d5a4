"""A plant's directory as a twin keeps it: departments, people and tags (WeCom) or roles
(DingTalk). Each twin serves it in its own platform's API shapes; tests change it (join, move,
leave, tag) and have the twin push the contact-change event."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Member:
    userid: str
    name: str
    mobile: str = ""
    departments: list[int] = field(default_factory=list)
    email: str = ""
    job_number: str = ""
    status: int = 1          # WeCom: 1 active, 2 disabled, 4 not activated, 5 left


class TwinDirectory:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.departments: dict[int, tuple[str, int]] = {1: ("公司", 0)}   # id → (name, parent id)
        self.members: dict[str, Member] = {}
        self.tags: dict[str, set[str]] = {}          # tag or role name → user ids
        self.tag_parties: dict[str, set[int]] = {}   # WeCom: a tag given to whole departments

    def department(self, dept_id: int, name: str, parent: int = 1) -> None:
        with self.lock:
            self.departments[dept_id] = (name, parent)

    def join(self, userid: str, name: str, departments: list[int], mobile: str = "", tags=(), **extra) -> Member:
        with self.lock:
            member = self.members[userid] = Member(userid, name, mobile, list(departments), **extra)
            for tag in tags:
                self.tags.setdefault(tag, set()).add(userid)
            return member

    def move(self, userid: str, departments: list[int]) -> None:
        with self.lock:
            self.members[userid].departments = list(departments)

    def leave(self, userid: str) -> None:
        with self.lock:
            self.members.pop(userid, None)
            for users in self.tags.values():
                users.discard(userid)

    def tag(self, userid: str, name: str, *, remove: bool = False) -> None:
        with self.lock:
            users = self.tags.setdefault(name, set())
            (users.discard if remove else users.add)(userid)

    def tag_id(self, name: str) -> int:
        return sorted(self.tags).index(name) + 1

    def tag_name(self, tag_id: int) -> str | None:
        names = sorted(self.tags)
        return names[tag_id - 1] if 1 <= tag_id <= len(names) else None

    def in_department(self, dept_id: int) -> list[Member]:
        with self.lock:
            return [m for m in self.members.values() if dept_id in m.departments]
