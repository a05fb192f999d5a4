"""Master data from the planners' spreadsheets and the API: product routes and people, created or
updated in place (an unchanged row changes nothing), every change an event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.directory_sync import ROLE_ORDER
from storage.events import record_event
from storage.models import Person, PersonIdentity, Route, RouteStep, Workshop


class MasterDataConflict(ValueError):
    """The data contradicts what is stored (an id that is someone else's); the message says how."""


@dataclass(frozen=True)
class RouteStepData:
    workshop_id: int
    units_per_hour: float
    setup_minutes: int = 0


@dataclass(frozen=True)
class PersonData:
    name: str
    roles: tuple[str, ...] = ()
    workshop_ids: tuple[int, ...] = ()
    ids: tuple[tuple[str, str], ...] = ()     # (platform, user id)
    key: str = ""                             # the directory match key (mobile …), "" if none
    active: bool = True


def _route_state(route: Route) -> list[tuple]:
    return [(s.workshop_id, s.units_per_hour, s.setup_minutes) for s in route.steps]


def upsert_route(session: Session, now: datetime, product: str, steps: list[RouteStepData], *,
                 source: str) -> tuple[Route, str]:
    """Create or replace a product's route; "created", "updated" or "unchanged". Orders already
    made keep the route they were made with (their steps are copies)."""
    route = session.scalars(select(Route).where(Route.product == product)).first()
    created = route is None
    if route is None:
        route = Route(product=product)
        session.add(route)
    before = [] if created else _route_state(route)
    for i, data in enumerate(steps):
        if i < len(route.steps):   # in place: (route, seq) is unique, and a flush inserts before it deletes
            step = route.steps[i]
            if (step.workshop_id, step.units_per_hour, step.setup_minutes) != (data.workshop_id, data.units_per_hour,
                                                                               data.setup_minutes):
                step.workshop_id, step.units_per_hour = data.workshop_id, data.units_per_hour
                step.setup_minutes = data.setup_minutes
        else:
            route.steps.append(RouteStep(seq=i + 1, workshop_id=data.workshop_id, units_per_hour=data.units_per_hour,
                                         setup_minutes=data.setup_minutes))
    del route.steps[len(steps):]
    session.flush()
    after = _route_state(route)
    if after == before:
        return route, "unchanged"
    session.expire(route, ["steps"])
    codes = {w.id: w.code for w in session.scalars(select(Workshop))}
    record_event(session, now, "route_set", order_id=None, actor=None, source=source, product=product,
                 steps=[{"workshop": codes[w], "units_per_hour": u, "setup_minutes": m} for w, u, m in after])
    return route, "created" if created else "updated"


def _person_state(person: Person) -> dict:
    return {"name": person.name, "roles": person.roles, "active": person.active,
            "ids": sorted(f"{i.platform}:{i.user_id}" for i in person.identities),
            "workshops": sorted(w.code for w in person.workshops)}


def find_person(session: Session, data: PersonData) -> Person | None:
    """The person a row or API body means: by a platform id, else the match key, else — with
    neither — the one person of that name who has no platform id."""
    holders = {p.id: p for platform, uid in data.ids if (p := session.scalars(select(Person).join(PersonIdentity).where(
        PersonIdentity.platform == platform, PersonIdentity.user_id == uid)).first()) is not None}
    if len(holders) > 1:
        raise MasterDataConflict("its ids belong to different people: " + ", ".join(p.name for p in holders.values()))
    if holders:
        return next(iter(holders.values()))
    if data.key:
        return session.scalars(select(Person).where(Person.directory_key == data.key).order_by(Person.id)).first()
    if not data.ids:
        named = [p for p in session.scalars(select(Person).where(Person.name == data.name)) if not p.identities]
        return named[0] if len(named) == 1 else None
    return None


def upsert_person(session: Session, now: datetime, data: PersonData, *, source: str) -> tuple[Person, str]:
    """Create or update a person as the row says; "created", "updated" or "unchanged"."""
    person = find_person(session, data)
    created = person is None
    if person is None:
        person = Person(name=data.name, roles="", active=True)
        session.add(person)
    before = {} if created else _person_state(person)
    person.name, person.active = data.name, data.active
    roles = " ".join(r for r in ROLE_ORDER if r in data.roles)
    if person.roles != roles:
        person.roles = roles
    if sorted(w.id for w in person.workshops) != sorted(data.workshop_ids):
        person.workshops = list(session.scalars(select(Workshop).where(Workshop.id.in_(data.workshop_ids))
                                                .order_by(Workshop.id)))
    for platform, uid in data.ids:
        if person.user_id(platform) != uid:
            person.set_user_id(platform, uid)
    if data.key and person.directory_key != data.key:
        person.directory_key = data.key
    session.flush()
    after = _person_state(person)
    if after == before:
        return person, "unchanged"
    if created:
        record_event(session, now, "person_joined", order_id=None, actor=None, source=source, **after)
    else:
        record_event(session, now, "person_changed", order_id=None, actor=None, source=source, person=person.name,
                     changes={k: [before[k], after[k]] for k in after if after[k] != before[k]})
    return person, "created" if created else "updated"
