"""The calendar check: a year ahead whose public holidays nobody knows yet (chinese-calendar has
no data for it and the plant has not confirmed it) is told to the admins once a day, so that no
plan silently counts Monday to Friday through the Spring Festival."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.neutral import Notice
from storage import planner
from storage.calendar import unknown_years
from storage.directory import people_with_role
from storage.models import SentReminder


def run(relay) -> dict:
    now, today = relay.clock.now(), relay.clock.today()
    told = 0
    with relay.Session() as session:
        years = unknown_years(planner.calendar(session, relay.plan), today)
        session.rollback()
    for year in years:
        try:
            with relay.Session.begin() as session:
                session.add(SentReminder(kind="calendar", subject_id=year * 10**8 + int(today.strftime("%Y%m%d")),
                                         created_at=now))
                session.flush()
                for admin in people_with_role(session, "admin"):
                    relay.enqueue_notice(session, Notice(
                        workshop_id=None, person_id=admin.id, template="notices/calendar_unknown",
                        context={"year": year}, key=f"calendar:{year}:{today.isoformat()}:{admin.id}"))
                    told += 1
        except IntegrityError:   # told today already
            continue
    return {"unknown_years": years, "told": told}
