"""Workshops, people, group bindings and routes: seeded from configuration, kept in the database."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import NotAllowed, UnknownWorkshop
from storage.events import record_event
from storage.models import GroupBinding, Person, PersonIdentity, Route, RouteStep, Workshop


class Plant(Protocol):
    """A configured plant (bot.config.Settings is one): workshops (code, name, aliases), routes
    (product, steps of workshop and units_per_hour), people (name, roles, workshops, identities
    as (platform, user id) pairs) and groups (platform, chat_id, name, workshop, webhook_key,
    webhook_secret, role, digest_time)."""
    @property
    def workshops(self) -> Sequence[Any]: ...
    @property
    def routes(self) -> Sequence[Any]: ...
    @property
    def people(self) -> Sequence[Any]: ...
    @property
    def groups(self) -> Sequence[Any]: ...


def sync_from_config(session: Session, settings: Plant) -> None:
    """Upsert the configured workshops, routes, people and groups (database rows not in the
    configuration, such as groups bound by `绑定`, are kept)."""
    workshops = {w.code: w for w in session.scalars(select(Workshop))}
    for wc in settings.workshops:
        ws = workshops.get(wc.code) or Workshop(code=wc.code)
        ws.name, ws.aliases = wc.name, " ".join(wc.aliases)
        ws.capacity, ws.working_hours = wc.capacity, ",".join(wc.working_hours)
        session.add(ws)
        workshops[wc.code] = ws
    session.flush()
    for rc in settings.routes:
        route = session.scalars(select(Route).where(Route.product == rc.product)).first() or Route(product=rc.product)
        # each step changed in place by its number (a new list would INSERT a second step 1 before the
        # flush DELETEs the first: a unique (route_id, seq) conflict on every run after the first)
        kept = {step.seq: step for step in route.steps}
        steps = []
        for seq, sc in enumerate(rc.steps, start=1):
            step = kept.get(seq) or RouteStep(seq=seq)
            step.workshop_id, step.units_per_hour = workshops[sc.workshop].id, sc.units_per_hour
            steps.append(step)
        route.steps = steps   # steps past the configured ones go (delete-orphan)
        session.add(route)
    for pc in settings.people:
        person = _find_person(session, pc.identities) or Person(name=pc.name)
        person.name, person.roles = pc.name, " ".join(pc.roles)
        configured = dict(pc.identities)
        for platform in {i.platform for i in person.identities} | set(configured):
            person.set_user_id(platform, configured.get(platform))
        person.workshops = [workshops[code] for code in pc.workshops]
        session.add(person)
        session.flush()  # one person's ids are in place before the next person's are looked up
    for gc in settings.groups:
        group = group_by_chat(session, gc.platform, gc.chat_id) or GroupBinding(platform=gc.platform, chat_id=gc.chat_id)
        group.name, group.webhook_key, group.webhook_secret = gc.name, gc.webhook_key, gc.webhook_secret
        group.role, group.digest_time = gc.role, gc.digest_time
        group.workshop_id = workshops[gc.workshop].id if gc.workshop else None
        session.add(group)
    session.flush()


def _find_person(session: Session, identities) -> Person | None:
    """The person known by any of these (platform, user id) pairs, whether active or not."""
    for platform, user_id in identities:
        person = session.scalars(select(Person).join(PersonIdentity).where(
            PersonIdentity.platform == platform, PersonIdentity.user_id == user_id)).first()
        if person:
            return person
    return None


def person_by_platform_id(session: Session, platform: str, user_id: str) -> Person | None:
    """Who sent a message: the person with this user id on this platform, if any (people who left
    the plant, `active` false, are nobody)."""
    return session.scalars(select(Person).join(PersonIdentity).where(
        PersonIdentity.platform == platform, PersonIdentity.user_id == user_id, Person.active.is_(True))).first()


def group_by_chat(session: Session, platform: str, chat_id: str) -> GroupBinding | None:
    return session.scalars(select(GroupBinding).where(GroupBinding.platform == platform,
                                                      GroupBinding.chat_id == chat_id)).first()


def workshop_by_name(session: Session, name: str) -> Workshop:
    """A workshop by its name, code or one of its aliases (case-insensitive)."""
    key = name.strip().lower()
    for ws in session.scalars(select(Workshop).order_by(Workshop.id)):
        if key in {ws.name.lower(), ws.code.lower(), *ws.aliases.lower().split()}:
            return ws
    known = [w.name for w in session.scalars(select(Workshop).order_by(Workshop.id))]
    raise UnknownWorkshop(name=name, known=known)


def bind_group(session: Session, now: datetime, *, platform: str, chat_id: str, chat_name: str,
               workshop: Workshop, person: Person, source: str) -> GroupBinding:
    """Bind a chat group to a workshop (admins only)."""
    if not person.has_role("admin"):
        raise NotAllowed(action="bind", workshop=workshop.name)
    group = group_by_chat(session, platform, chat_id)
    if group is None:
        group = GroupBinding(platform=platform, chat_id=chat_id, name=chat_name, webhook_key="")
        session.add(group)
    old = group.workshop.name if group.workshop else None
    group.workshop_id = workshop.id
    group.workshop = workshop
    session.flush()
    record_event(session, now, "group_bound", order_id=None, actor=person, source=source,
                 platform=platform, chat_id=chat_id, workshop=workshop.name, previous=old)
    return group


def groups_of_workshop(session: Session, workshop_id: int) -> list[GroupBinding]:
    """A workshop's groups (remembered for the rest of the transaction: a scan asks often)."""
    cache = session.info.setdefault("groups_of_workshop", {})
    if workshop_id not in cache:
        cache[workshop_id] = list(session.scalars(select(GroupBinding).where(GroupBinding.workshop_id == workshop_id)
                                                  .order_by(GroupBinding.id)))
    return cache[workshop_id]


def groups_of_role(session: Session, role: str) -> list[GroupBinding]:
    return list(session.scalars(select(GroupBinding).where(GroupBinding.role == role).order_by(GroupBinding.id)))


def leads_of(session: Session, workshop_id: int) -> list[Person]:
    cache = session.info.setdefault("leads_of", {})
    if workshop_id not in cache:
        people = session.scalars(select(Person).join(Person.workshops).where(Workshop.id == workshop_id)
                                 .order_by(Person.id)).all()
        cache[workshop_id] = [p for p in people if p.has_role("lead") and p.active]
    return cache[workshop_id]


def people_with_role(session: Session, role: str) -> list[Person]:
    return [p for p in session.scalars(select(Person).order_by(Person.id)) if p.has_role(role) and p.active]
