"""Directory sync, platform-free: the users the platforms' directories list become one person
each (matched by mobile or a configured field), and the people table is brought to match —
joins, department moves, role changes, leavers. Running it twice changes nothing the second time."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.events import record_event
from storage.models import Person, PersonIdentity, Workshop

ROLE_ORDER = ("lead", "head", "planner", "manager", "admin")


@dataclass(frozen=True)
class DirectoryUser:
    """One user as a platform's directory lists them."""
    platform: str
    user_id: str
    name: str
    mobile: str = ""
    email: str = ""
    job_number: str = ""
    departments: tuple[str, ...] = ()   # the user's departments and all their parents
    tags: tuple[str, ...] = ()          # tag (WeCom) or role (DingTalk) names


@dataclass
class Listing:
    """What one platform said: its whole directory (`complete`: whoever is missing has left), or
    a few users and the ids known to have left (a contact-change event)."""
    platform: str
    users: list[DirectoryUser]
    complete: bool = True
    gone: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    match_by: str = "mobile"
    departments: dict[str, dict[str, str]] = field(default_factory=dict)  # platform → dept id → workshop code
    roles: dict[str, str] = field(default_factory=dict)                   # tag or role name → role
    configured: frozenset[tuple[str, str]] = frozenset()   # [[people]] ids: the config owns their name, roles, workshops
    max_leavers_percent: int = 20


@dataclass
class Changes:
    joined: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.joined or self.changed or self.left)

    def summary(self) -> str:
        return f"joined {len(self.joined)}, changed {len(self.changed)}, left {len(self.left)}"


def match_key(user: DirectoryUser, match_by: str) -> str:
    """The value that makes two platforms' users one person ("" when the user has none)."""
    value = (user.user_id if match_by == "userid" else getattr(user, match_by, "")) or ""
    value = value.strip()
    if match_by == "mobile":
        value = re.sub(r"\D", "", value)
        if len(value) == 13 and value.startswith("86"):
            value = value[2:]
    elif match_by == "email":
        value = value.lower()
    key = f"{match_by}:{value}" if value else ""
    return key if len(key) <= 120 else ""   # longer than the column: not a usable key


def apply_directory(session: Session, now: datetime, listings: list[Listing], rules: Rules) -> Changes:
    """Bring people in line with what the directories list; every change is an event."""
    changes = Changes()
    workshops = {w.code: w for w in session.scalars(select(Workshop).order_by(Workshop.id))}
    index = _Index(session)
    present: set[int] = set()
    for key, users in _groups(listings, rules.match_by, changes):
        person = _apply_group(session, now, key, users, rules, workshops, changes, index)
        if person is not None:
            present.add(person.id)
    for listing in listings:
        _leavers(session, now, listing, present, rules, changes)
    session.flush()
    return changes


def _groups(listings: list[Listing], match_by: str, changes: Changes) -> Iterable[tuple[str, list[DirectoryUser]]]:
    groups: dict[str, list[DirectoryUser]] = {}
    for listing in listings:
        for user in listing.users:
            key = match_key(user, match_by)
            if key and any(u.platform == user.platform for u in groups.get(key, [])):
                changes.warnings.append(f"{user.platform} {user.user_id}: {key} is another user's too; matched by id only")
                key = ""
            groups.setdefault(key or f"id:{user.platform}:{user.user_id}", []).append(user)
    return [(k if not k.startswith("id:") else "", users) for k, users in groups.items()]


class _Index:
    """Everyone, by platform id and by match key, read once (a person per query is slow at 300)."""

    def __init__(self, session: Session):
        people = session.scalars(select(Person).order_by(Person.id)).all()
        self.ids = {(i.platform, i.user_id): p for p in people for i in p.identities}
        self.keys: dict[str, Person] = {}
        for p in people:
            if p.directory_key:
                self.keys.setdefault(p.directory_key, p)

    def holder(self, platform: str, user_id: str) -> Person | None:
        """Whoever has this id on this platform, active or not."""
        return self.ids.get((platform, user_id))

    def find(self, users: list[DirectoryUser], key: str) -> Person | None:
        for user in users:
            if (person := self.holder(user.platform, user.user_id)) is not None:
                return person
        return self.keys.get(key) if key else None

    def set_id(self, person: Person, platform: str, user_id: str) -> None:
        self.ids.pop((platform, person.user_id(platform) or ""), None)
        person.set_user_id(platform, user_id)
        self.ids[(platform, user_id)] = person


def _mapped(users: list[DirectoryUser], rules: Rules) -> tuple[set[str], set[str]]:
    """The workshop codes their departments map to and the roles their tags map to."""
    codes = {code for u in users for d in u.departments if (code := rules.departments.get(u.platform, {}).get(d))}
    roles = {role for u in users for t in u.tags if (role := rules.roles.get(t))}
    return codes, roles


def _state(person: Person) -> dict:
    return {"name": person.name, "roles": person.roles, "active": person.active,
            "ids": sorted(f"{i.platform}:{i.user_id}" for i in person.identities),
            "workshops": sorted(w.code for w in person.workshops)}


def _apply_group(session: Session, now: datetime, key: str, users: list[DirectoryUser], rules: Rules,
                 workshops: dict[str, Workshop], changes: Changes, index: _Index) -> Person | None:
    codes, roles = _mapped(users, rules)
    person = index.find(users, key)
    if person is None and not (codes or roles):
        return None  # not in a mapped department, no mapped tag: not one of the plant's people
    created = person is None
    if person is None:
        person = Person(name=users[0].name[:80], roles="", active=True)
        session.add(person)
    before = {} if created else _state(person)
    configured = any(pair in rules.configured for pair in
                     [(i.platform, i.user_id) for i in person.identities] + [(u.platform, u.user_id) for u in users])
    for user in users:
        holder = index.holder(user.platform, user.user_id)
        if holder is not None and holder is not person:
            changes.warnings.append(f"{user.platform} {user.user_id} belongs to {holder.name}, not {person.name}")
            continue
        if person.user_id(user.platform) != user.user_id:
            index.set_id(person, user.platform, user.user_id)
    if key and person.directory_key != key:
        person.directory_key = key
        index.keys.setdefault(key, person)
    person.active = True
    if not configured:
        _set_owned(person, users, rules, codes, roles, workshops)
    session.flush()
    after = _state(person)
    if created:
        changes.joined.append(person.name)
        record_event(session, now, "person_joined", order_id=None, actor=None, source="directory", **after)
    elif after != before:
        diff = {k: [before[k], after[k]] for k in after if after[k] != before[k]}
        changes.changed.append(f"{person.name}: {', '.join(diff)}")
        record_event(session, now, "person_changed", order_id=None, actor=None, source="directory",
                     person=person.name, changes=diff)
    return person


def _set_owned(person: Person, users: list[DirectoryUser], rules: Rules, codes: set[str], roles: set[str],
               workshops: dict[str, Workshop]) -> None:
    """Name, roles and workshops, where the directory is their source (a mapping is configured)."""
    if person.name != users[0].name[:80]:
        person.name = users[0].name[:80]
    if rules.roles:
        text = " ".join(r for r in ROLE_ORDER if r in roles)
        if person.roles != text:
            person.roles = text
    if any(rules.departments.get(u.platform) for u in users):
        wanted = [w for code, w in workshops.items() if code in codes]
        if sorted(w.id for w in person.workshops) != [w.id for w in wanted]:
            person.workshops = wanted


def _leavers(session: Session, now: datetime, listing: Listing, present: set[int], rules: Rules,
             changes: Changes) -> None:
    """People this platform no longer lists: gone from it; gone from every directory, inactive."""
    platform = listing.platform
    listed = {u.user_id for u in listing.users}
    if listing.complete and not listed:
        changes.warnings.append(f"{platform}: the directory listed nobody; nobody is marked as left")
        return
    rows = session.execute(select(Person, PersonIdentity.user_id).join(PersonIdentity).where(
        PersonIdentity.platform == platform, Person.active.is_(True)).order_by(Person.id)).all()
    if listing.complete:
        gone = [(p, uid) for p, uid in rows if uid not in listed]
        limit = max(3, len(rows) * rules.max_leavers_percent // 100)
        if len(gone) > limit:
            changes.warnings.append(f"{platform}: {len(gone)} people would leave at once (limit {limit}); "
                                    f"nobody is marked as left — check the app's visible range")
            return
    else:
        gone = [(p, uid) for p, uid in rows if uid in set(listing.gone)]
    for person, user_id in gone:
        elsewhere = person.id in present if listing.complete else len(person.identities) > 1
        if elsewhere:
            person.set_user_id(platform, None)
            changes.changed.append(f"{person.name}: left {platform}")
            record_event(session, now, "person_changed", order_id=None, actor=None, source="directory",
                         person=person.name, changes={"ids": [f"{platform}:{user_id}", None]})
        else:
            person.active = False
            changes.left.append(person.name)
            record_event(session, now, "person_left", order_id=None, actor=None, source="directory",
                         person=person.name, platform=platform, user_id=user_id)
