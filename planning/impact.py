"""What a request would do: the plan as if approved beside the plan as it is, compared order by
order. Only what a manager decides on is kept: who would become late or later, and by how much."""
from __future__ import annotations

from dataclasses import dataclass

from planning.model import OrderPlan, Plan

NOTICEABLE_MINUTES = 30     # a push smaller than this is noise in a forecast


@dataclass(frozen=True)
class Pushed:
    order_no: str
    workshop_id: int            # where the order is pushed first (its first step that moves)
    before_minutes: int         # late before (0: on time)
    after_minutes: int          # late after
    moved_minutes: int          # how much later its finish is, working minutes

    @property
    def became_late(self) -> bool:
        return self.before_minutes == 0 and self.after_minutes > 0


def pushed_orders(before: Plan, after: Plan, exclude: int | None, limit: int = 8) -> tuple[list[Pushed], int]:
    """Orders that would be later against their due date, worst first (those that become late
    before those already late); and how many there are in all."""
    found: list[Pushed] = []
    for order_id, new in after.orders.items():
        old = before.orders.get(order_id)
        if order_id == exclude or old is None or new.fe is None or old.fe is None:
            continue
        if new.late_minutes - old.late_minutes < NOTICEABLE_MINUTES or new.late_minutes == 0:
            continue
        found.append(Pushed(order_no=new.order_no, workshop_id=_first_moved(old, new),
                            before_minutes=old.late_minutes, after_minutes=new.late_minutes,
                            moved_minutes=new.late_minutes - old.late_minutes))
    found.sort(key=lambda p: (not p.became_late, -p.moved_minutes, p.order_no))
    return found[:limit], len(found)


def _first_moved(old: OrderPlan, new: OrderPlan) -> int:
    was = {s.step_id: s for s in old.steps}
    for step in new.steps:
        prior = was.get(step.step_id)
        if step.fe is not None and prior is not None and prior.fe is not None and step.fe > prior.fe + 60:
            return step.workshop_id
    return new.steps[-1].workshop_id
