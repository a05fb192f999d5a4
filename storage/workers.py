"""Who did the work: workers' shares of a report (named in it, or the lead's team of the shift),
the team itself (班组), and the piece rates that turn good pieces into pay.

A share stands, is undone and is corrected with its report: shares are rows beside the report
and every total reads them through standing reports only. A report without shares counts for
the person who reported it, as before shares existed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from storage.errors import NotAllowed, UserError
from storage.events import record_event
from storage.models import Person, PieceRate, Report, ReportShare, TeamMember, Workshop

ALWAYS = date(2000, 1, 1)     # valid_from of a rate that has no start
MAX_TEAM = 30


class ShareMismatch(UserError):
    """The shares named do not add up to the report (or name someone twice)."""
    code = "shares"  # problem (sum / over / twice), good, given, name


@dataclass(frozen=True)
class Share:
    person: Person
    good: int
    scrap: int
    basis: str = "named"      # named in the report / the lead's team

    def as_data(self) -> dict:
        return {"name": self.person.name, "person_id": self.person.id, "good": self.good, "scrap": self.scrap}


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` in whole pieces (largest remainder; ties go to
    the one named first); equal parts when every weight is zero."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:total - sum(parts)]:
        parts[i] += 1
    return parts


def split(good: int, scrap: int, workers: Sequence[tuple[Person, int | None]], basis: str = "named") -> list[Share]:
    """Each worker's good and scrap: the good shares given, the rest of the good split equally
    among those named without one; scrap in proportion to the good shares."""
    seen: set[int] = set()
    for person, _ in workers:
        if person.id in seen:
            raise ShareMismatch(problem="twice", name=person.name, good=good, given=None)
        seen.add(person.id)
    given = sum(q for _, q in workers if q is not None)
    open_ = [i for i, (_, q) in enumerate(workers) if q is None]
    if not open_ and given != good:
        raise ShareMismatch(problem="sum", good=good, given=given, name=None)
    if given > good:
        raise ShareMismatch(problem="over", good=good, given=given, name=None)
    rest = apportion(good - given, [1] * len(open_))
    goods = [q if q is not None else 0 for _, q in workers]
    for i, part in zip(open_, rest, strict=True):
        goods[i] = part
    scraps = apportion(scrap, goods)
    return [Share(person, g, s, basis) for (person, _), g, s in zip(workers, goods, scraps, strict=True)]


def store_shares(session: Session, report: Report, shares: Sequence[Share]) -> None:
    """Write the shares of a new report (in the report's transaction)."""
    for share in shares:
        session.add(ReportShare(report_id=report.id, person_id=share.person.id, good=share.good,
                                scrap=share.scrap, basis=share.basis))


def shares_of(session: Session, report_id: int) -> list[tuple[ReportShare, str]]:
    """A report's shares with the workers' names, in the order they were named."""
    return list(session.execute(select(ReportShare, Person.name).join(Person, Person.id == ReportShare.person_id)
                                .where(ReportShare.report_id == report_id).order_by(ReportShare.id)).all())


def share_data(session: Session, report_id: int) -> list[dict]:
    """A report's shares as the timeline and replies show them."""
    return [{"name": name, "person_id": row.person_id, "good": row.good, "scrap": row.scrap}
            for row, name in shares_of(session, report_id)]


def reshare(session: Session, report: Report, workers: Sequence[tuple[Person, int | None]] | None) -> list[dict]:
    """After a correction of `report` (its good and scrap already set): the shares named anew,
    or the existing shares scaled to the new quantities. Returns the shares as data."""
    rows = shares_of(session, report.id)
    if workers is None:
        if not rows:
            return []
        goods = apportion(report.good, [r.good for r, _ in rows])
        scraps = apportion(report.scrap, goods if any(goods) else [r.scrap for r, _ in rows])
        for (row, _), g, s in zip(rows, goods, scraps, strict=True):
            row.good, row.scrap = g, s
        session.flush()
        return share_data(session, report.id)
    shares = split(report.good, report.scrap, workers)
    session.execute(delete(ReportShare).where(ReportShare.report_id == report.id))
    session.flush()
    store_shares(session, report, shares)
    session.flush()
    return share_data(session, report.id)


# -- the team of the shift (班组) ------------------------------------------------------------------

def may_set_team(person: Person) -> bool:
    return person.has_role("lead") or person.has_role("head")


_TEAM = (select(Person).join(TeamMember, TeamMember.person_id == Person.id)   # built once: it runs on every 报工
         .where(TeamMember.lead_id == bindparam("b_lead"), TeamMember.expires_at > bindparam("b_now"))
         .order_by(TeamMember.seq))


def team_of(session: Session, lead: Person, now: datetime) -> list[Person]:
    """The lead's team now (empty when none is set or it has expired)."""
    return list(session.scalars(_TEAM, {"b_lead": lead.id, "b_now": now}))


def team_until(session: Session, lead: Person, now: datetime) -> datetime | None:
    return session.scalar(select(TeamMember.expires_at).where(TeamMember.lead_id == lead.id,
                                                             TeamMember.expires_at > now).limit(1))


def set_team(session: Session, now: datetime, *, lead: Person, members: Sequence[Person], hours: int,
             source: str) -> datetime:
    """The lead's team for the next `hours` (one shift), replacing any before; an empty list
    clears it. Returns when it expires."""
    if not may_set_team(lead):
        raise NotAllowed(action="team", workshop="")
    ids = [p.id for p in members]
    if len(set(ids)) != len(ids):
        twice = next(p for p in members if ids.count(p.id) > 1)
        raise ShareMismatch(problem="twice", name=twice.name, good=None, given=None)
    if len(members) > MAX_TEAM:
        raise ShareMismatch(problem="too_many", name=None, good=None, given=len(members))
    session.execute(delete(TeamMember).where(TeamMember.lead_id == lead.id))
    expires = now + timedelta(hours=hours)
    for seq, person in enumerate(members):
        session.add(TeamMember(lead_id=lead.id, person_id=person.id, seq=seq, set_at=now, expires_at=expires))
    record_event(session, now, "team_set" if members else "team_cleared", order_id=None, actor=lead, source=source,
                 members=[p.name for p in members], until=expires.isoformat() if members else None)
    session.flush()
    return expires


# -- people by name --------------------------------------------------------------------------------

def people_named(session: Session, words: Sequence[str]) -> dict[str, list[Person]]:
    """The people each word may mean: by name, else by a user id on any platform (to tell apart
    two people of one name). A word nobody has maps to []."""
    from storage.models import PersonIdentity
    wanted = list(dict.fromkeys(words))
    found: dict[str, list[Person]] = {w: [] for w in wanted}
    for person in session.scalars(select(Person).where(Person.name.in_(wanted)).order_by(Person.id)):
        found[person.name].append(person)
    by_id = select(PersonIdentity).where(PersonIdentity.user_id.in_([w for w in wanted if not found[w]]))
    for identity in session.scalars(by_id.order_by(PersonIdentity.id)):
        if identity.person not in found[identity.user_id]:
            found[identity.user_id].append(identity.person)
    return found


def known_words(session: Session) -> frozenset[str]:
    """Every person's name and user ids: the words a message may name a worker with. Read once
    per directory version in each process (storage.directory_cache), not two whole tables per
    message that @-mentions someone."""
    from storage.directory_cache import cached
    from storage.models import PersonIdentity
    return cached(session, ("known_words",), lambda: frozenset(session.scalars(select(Person.name)))
                  | frozenset(session.scalars(select(PersonIdentity.user_id))))


# -- piece rates -----------------------------------------------------------------------------------

RateTable = dict[tuple[str, int], list[tuple[date, Decimal]]]


def sync_piece_rates(session: Session, rates: Sequence) -> None:
    """The configured rates (product, workshop code, rate, valid_from) replace the configured
    rows of before; rates from elsewhere (an import) are kept."""
    workshops = {w.code: w.id for w in session.scalars(select(Workshop))}
    session.execute(delete(PieceRate).where(PieceRate.source == "config"))
    session.flush()
    for rc in rates:
        start = date.fromisoformat(rc.valid_from) if rc.valid_from else ALWAYS
        session.add(PieceRate(product=rc.product, workshop_id=workshops[rc.workshop], rate=Decimal(rc.rate),
                              valid_from=start, source="config"))
    session.flush()


def rate_table(session: Session) -> RateTable:
    """Every rate, per (product, workshop id), oldest first."""
    table: RateTable = {}
    for row in session.scalars(select(PieceRate).order_by(PieceRate.valid_from, PieceRate.id)):
        table.setdefault((row.product, row.workshop_id), []).append((row.valid_from, Decimal(row.rate)))
    return table


def rate_on(table: RateTable, product: str, workshop_id: int, day: date) -> Decimal | None:
    """The rate that applies on `day` (the latest that started by then), None if none does."""
    rate = None
    for start, value in table.get((product, workshop_id), []):
        if start <= day:
            rate = value
    return rate
