"""The replan job: the whole plan again, soon after commands re-timed orders (which may have
moved others in the same queues) and at least every `planning.refresh_minutes`, because a
forecast made from now slides as time passes."""
from __future__ import annotations

import gc

from storage import planner


def run(relay, force: bool = True) -> dict:
    """Make and store the whole plan (`force=False`: only when something calls for it)."""
    if not force:
        with relay.Session() as session:
            session.info.pop("plan", None)
            if not planner.needs_replan(session, relay.clock.now(), relay.settings.planning.refresh_minutes * 60):
                return {"orders": 0, "skipped": True}
    result = planner.replan_all(relay.Session, relay.plan, read_factory=relay.ReadSession)
    # a whole plan leaves about a million objects behind (rows, plain data, the plan): collected
    # here, as part of its cost, and not in the middle of the scan or the digests that follow
    gc.collect()
    return result
