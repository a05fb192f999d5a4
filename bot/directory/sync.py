"""Running the directory sync: read every configured platform's directory, apply it in one
transaction (`linerelay sync-directory`, the daily job), or apply one contact-change event."""
from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bot.directory.settings import DirectorySettings
from bot.directory.source import DirectoryError, DirectorySource
from storage.directory_sync import Changes, Listing, Rules, apply_directory
from storage.models import PersonIdentity

log = logging.getLogger(__name__)


def rules_of(settings) -> Rules:
    """The matching rules the configuration gives: match field, departments → workshops, tags → roles."""
    d: DirectorySettings = settings.directory or DirectorySettings()
    departments: dict[str, dict[str, str]] = {}
    for workshop in settings.workshops:
        for platform, dept in workshop.departments:
            departments.setdefault(platform, {})[dept] = workshop.code
    configured = frozenset(pair for person in settings.people for pair in person.identities)
    return Rules(match_by=d.match_by, departments=departments, roles=dict(d.roles), configured=configured,
                 max_leavers_percent=d.max_leavers_percent)


def sources(relay) -> list[DirectorySource]:
    """The directories to read: every configured platform that has one (or those `[directory]
    platforms` names)."""
    from bot.platforms import registry
    d: DirectorySettings = relay.settings.directory or DirectorySettings()
    result = []
    for spec in registry.specs():
        if spec.directory is None or spec.name not in relay.platforms or (d.platforms and spec.name not in d.platforms):
            continue
        result.append(spec.directory(relay.platforms[spec.name], tuple(d.roles)))
    return result


def run_sync(relay, *, dry_run: bool = False) -> Changes:
    """Read every directory, then apply them together. A directory that cannot be read is left
    out, and nobody is marked as left on it."""
    listings, warnings = [], []
    for source in sources(relay):
        try:
            listings.append(Listing(source.platform, source.listing()))
        except DirectoryError as exc:
            warnings.append(f"{source.platform}: not read ({exc}); nobody changes there")
    with relay.Session() as session:
        changes = apply_directory(session, relay.clock.now(), listings, rules_of(relay.settings))
        if dry_run:
            session.rollback()
        else:
            session.commit()
    changes.warnings[:0] = warnings
    return changes


def apply_event(relay, platform: str, *, changed=(), gone=(), renamed: dict[str, str] | None = None) -> Changes | None:
    """A contact-change event: the users it names are read again (one API call each) and applied;
    `gone` have left that platform; `renamed` maps an old user id to a new one. Failures are
    logged, not raised: the platform gets its acknowledgement and the daily sync repairs."""
    source = next((s for s in sources(relay) if s.platform == platform), None)
    if source is None:
        return None
    try:
        users, left = [], list(gone)
        for user_id in changed:
            user = source.user(str(user_id))
            users.append(user) if user is not None else left.append(str(user_id))
        listing = Listing(platform, users, complete=False, gone=tuple(map(str, left)))
        for attempt in (0, 1):   # two events for one new person at once: the second finds the first's row
            try:
                with relay.Session.begin() as session:
                    for old, new in (renamed or {}).items():
                        session.execute(update(PersonIdentity).where(
                            PersonIdentity.platform == platform, PersonIdentity.user_id == old).values(user_id=new))
                    changes = apply_directory(session, relay.clock.now(), [listing], rules_of(relay.settings))
                break
            except IntegrityError:
                if attempt:
                    raise
        log.info("directory event on %s: %s", platform, changes.summary())
        return changes
    except (DirectoryError, IntegrityError) as exc:
        log.warning("directory event on %s not applied (the daily sync will): %s", platform, exc)
        return None


def job(relay) -> dict:
    """The daily job: a sync, reported as counts."""
    changes = run_sync(relay)
    for line in changes.warnings:
        log.warning("directory sync: %s", line)
    return {"joined": len(changes.joined), "changed": len(changes.changed), "left": len(changes.left),
            "warnings": len(changes.warnings)}
