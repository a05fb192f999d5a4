"""SQLAlchemy models. Quantities are integers; times are stored as naive UTC."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Integer, Numeric, String,
                        Text, UniqueConstraint, Index)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class Workshop(Base):
    __tablename__ = "workshops"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    aliases: Mapped[str] = mapped_column(String(200), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=1, server_default="1")   # parallel lines
    working_hours: Mapped[str] = mapped_column(String(200), default="", server_default="")  # "" = the plant's


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    roles: Mapped[str] = mapped_column(String(100), default="")  # space separated
    # False once the directory says they left: their reports and events stay, they act no more.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # What matches them across platforms in the directory (normalised mobile, or the configured field).
    directory_key: Mapped[str | None] = mapped_column(String(120), index=True)
    workshops: Mapped[list[Workshop]] = relationship(secondary="lead_assignments", lazy="selectin")
    identities: Mapped[list[PersonIdentity]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                            back_populates="person")

    def has_role(self, role: str) -> bool:
        return role in self.roles.split()

    def user_id(self, platform: str) -> str | None:
        """This person's user id on a chat platform, if they have one there."""
        return next((i.user_id for i in self.identities if i.platform == platform), None)

    def set_user_id(self, platform: str, user_id: str | None) -> None:
        """Give this person a user id on a platform (None: none there any more)."""
        current = next((i for i in self.identities if i.platform == platform), None)
        if user_id is None:
            if current is not None:
                self.identities.remove(current)
        elif current is None:
            self.identities.append(PersonIdentity(platform=platform, user_id=user_id))
        else:
            current.user_id = user_id

    def leads(self, workshop_id: int) -> bool:
        return self.has_role("lead") and any(w.id == workshop_id for w in self.workshops)

    def heads(self, workshop_id: int) -> bool:
        """A workshop head (车间主任) of this workshop: corrects reports, settles disputes."""
        return self.has_role("head") and any(w.id == workshop_id for w in self.workshops)


class PersonIdentity(Base):
    """Who a person is on one chat platform: one user id per platform, unique within it."""
    __tablename__ = "person_identities"
    __table_args__ = (UniqueConstraint("platform", "user_id"), UniqueConstraint("person_id", "platform"))
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(80))
    person: Mapped[Person] = relationship(back_populates="identities")


class LeadAssignment(Base):
    __tablename__ = "lead_assignments"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True)


class GroupBinding(Base):
    __tablename__ = "group_bindings"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(80), default="")
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id"))
    webhook_key: Mapped[str] = mapped_column(String(200), default="")
    # Some group webhooks are signed with a secret of their own.
    webhook_secret: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # "managers" or "planners" for groups that are not a workshop's: escalations, approvals, digests.
    role: Mapped[str] = mapped_column(String(16), default="", server_default="")
    digest_time: Mapped[str] = mapped_column(String(5), default="", server_default="")  # "" = the default
    workshop: Mapped[Workshop | None] = relationship(lazy="joined")


class DirectoryVersion(Base):
    """One row: raised by every change to people, identities, lead assignments, groups and
    workshops (storage/directory_cache.py), so that each process knows when its cache is stale."""
    __tablename__ = "directory_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class Route(Base):
    __tablename__ = "routes"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    product: Mapped[str] = mapped_column(String(120), unique=True)
    steps: Mapped[list[RouteStep]] = relationship(order_by="RouteStep.seq", lazy="selectin",
                                                  cascade="all, delete-orphan")


class RouteStep(Base):
    __tablename__ = "route_steps"
    __table_args__ = (UniqueConstraint("route_id", "seq"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"))
    units_per_hour: Mapped[float] = mapped_column(Float)
    setup_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # from the routings import
    workshop: Mapped[Workshop] = relationship(lazy="joined")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_urgency", "priority", "due_date", "order_no"),   # the board's order
                      Index("ix_orders_status", "status"))
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    product: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int] = mapped_column(Integer)
    customer: Mapped[str] = mapped_column(String(120), default="")
    due_date: Mapped[date] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer, default=3)  # 1 = most urgent
    # planned/in_progress/blocked/done are derived from the steps; paused/cancelled are set.
    status: Mapped[str] = mapped_column(String(16), default="planned")
    hold: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Written by the planner (storage/planner.py): the due moment, the forecast finish, lateness.
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    forecast_end: Mapped[datetime | None] = mapped_column(DateTime)
    late_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    steps: Mapped[list[Step]] = relationship(order_by="Step.seq", lazy="selectin",
                                             back_populates="order", cascade="all, delete-orphan")


class Step(Base):
    __tablename__ = "steps"
    # ix_steps_workshop_queue: a workshop's steps by status, carrying what the board's summary
    # counts (planned end, lateness, order) so that it is read from the index alone
    __table_args__ = (UniqueConstraint("order_id", "seq"),
                      Index("ix_steps_workshop_queue", "workshop_id", "status", "planned_end", "late_minutes", "order_id"),
                      # the plan's quantity on a day: the steps whose planned window overlaps it
                      Index("ix_steps_plan_window", "planned_end", "planned_start", "workshop_id", "planned_qty",
                            "order_id"))
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"))
    planned_qty: Mapped[int] = mapped_column(Integer)
    good_qty: Mapped[int] = mapped_column(Integer, default=0)
    scrap_qty: Mapped[int] = mapped_column(Integer, default=0)
    received_qty: Mapped[int] = mapped_column(Integer, default=0)
    handed_qty: Mapped[int] = mapped_column(Integer, default=0)
    units_per_hour: Mapped[float] = mapped_column(Float)
    planned_start: Mapped[datetime] = mapped_column(DateTime)
    planned_end: Mapped[datetime] = mapped_column(DateTime)
    first_report_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_report_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)   # the digests' day
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    # The plan (storage/planner.py): planned_* above are the latest dates that keep the due date;
    # forecast_* are when the step will really start and end; late_minutes is the forecast end
    # past the planned end in working minutes; provisional: a date in an unconfirmed year.
    forecast_start: Mapped[datetime | None] = mapped_column(DateTime)
    forecast_end: Mapped[datetime | None] = mapped_column(DateTime)
    forecast_line: Mapped[int | None] = mapped_column(Integer)
    late_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    plan_hash: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Bumped by every re-time in a command's transaction: the full re-plan, computed from an older
    # snapshot, leaves such rows alone (its UPDATE matches the stamp it read).
    plan_stamp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retimed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    order: Mapped[Order] = relationship(back_populates="steps", lazy="joined")
    workshop: Mapped[Workshop] = relationship(lazy="joined")


class Report(Base):
    __tablename__ = "reports"
    # A day's output is read by time: the index carries what that reads (undone or not, whose step,
    # how many), so the table is not visited for each report (the board's summary, the digests).
    __table_args__ = (Index("ix_reports_day", "created_at", "undone_at", "step_id", "good", "scrap"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    good: Mapped[int] = mapped_column(Integer)
    scrap: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The handoff this report created by completing its step: undo withdraws exactly that one.
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"))
    step: Mapped[Step] = relationship(lazy="joined")


class Handoff(Base):
    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_pending", "status", "to_step_id"),)   # the pending ones
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    from_step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    to_step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    received_qty: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    note: Mapped[str | None] = mapped_column(String(200))   # what the sending lead said of the batch
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    from_step: Mapped[Step] = relationship(foreign_keys=[from_step_id], lazy="joined")
    to_step: Mapped[Step] = relationship(foreign_keys=[to_step_id], lazy="joined")


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_open", "closed_at", "step_id"),)   # the open ones (closed_at IS NULL)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(500), default="")
    # A breakdown blocks its step; a quantity dispute is recorded and told, but blocks nothing.
    blocking: Mapped[bool] = mapped_column(default=True, server_default="1")
    prior_status: Mapped[str | None] = mapped_column(String(16))
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"))
    expected_recovery: Mapped[datetime | None] = mapped_column(DateTime)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)


class IncidentPhoto(Base):
    """A photo attached to an exception: the file lives in `app.photo_dir` under its SHA-256."""
    __tablename__ = "incident_photos"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column()
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ChangeRequest(Base):
    __tablename__ = "change_requests"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # rush / quantity / due_date / pause / resume / cancel
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    impact: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(String(500), default="")
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Unique while pending ("rush:SO-2001"), NULL once decided: one pending rush order per number.
    pending_key: Mapped[str | None] = mapped_column(String(100), unique=True)


class Card(Base):
    """An interactive card we sent: clicks are accepted only for rows here, decided once."""
    __tablename__ = "cards"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    track_id: Mapped[str] = mapped_column(String(128), unique=True)  # the card id the platform echoes on a click
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))                     # handoff / approval / warning
    subject_id: Mapped[int] = mapped_column(ID)                       # the handoff, request or step
    audience: Mapped[str] = mapped_column(String(500), default="")    # chat id or user ids
    status: Mapped[str] = mapped_column(String(16), default="open")   # open / decided
    decision: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    data: Mapped[dict] = mapped_column(JSON, default=dict)            # what the card shows
    created_at: Mapped[datetime] = mapped_column(DateTime)


class JobLease(Base):
    """Which jobs process runs the schedule: the holder renews; a standby takes over on expiry."""
    __tablename__ = "job_leases"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class DelayWarning(Base):
    """One warning per step per level (late / at_risk / escalated), ever; the step is the one
    that causes its order's delay; an order is escalated once."""
    __tablename__ = "delay_warnings"
    __table_args__ = (UniqueConstraint("step_id", "level"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    projected_end: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)


class SentDigest(Base):
    """A digest exists once per group and day, however often the job runs."""
    __tablename__ = "sent_digests"
    __table_args__ = (UniqueConstraint("group_id", "day"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group_bindings.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class SentReminder(Base):
    """A reminder about one pending thing is sent once."""
    __tablename__ = "sent_reminders"
    __table_args__ = (UniqueConstraint("kind", "subject_id"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class InboundMessage(Base):
    """One row per platform message applied: the deduplication record and its stored reply."""
    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("platform", "msg_id"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    msg_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    reply: Mapped[dict | None] = mapped_column(JSON)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))  # passive / webhook / app / response_url
    target: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending/sending/sent/dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class Event(Base):
    """Append-only log of every change: the order's timeline is read from here."""
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor: Mapped[str] = mapped_column(String(80), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RateKey(Base):
    """One row per send target (robot, member): locked while a send is counted, so every process
    counts against the same window."""
    __tablename__ = "rate_keys"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)


class RateSend(Base):
    """A send counted against its target's limit; rows older than the window are pruned."""
    __tablename__ = "rate_sends"
    __table_args__ = (Index("ix_rate_sends_key_at", "key", "sent_at"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(DateTime)


class CalendarDay(Base):
    """One of the plant's own days: closed (停产), these hours instead, or extra hours (加班);
    for the whole plant (scope "plant") or one workshop (scope "ws:<id>")."""
    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("day", "scope"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    scope: Mapped[str] = mapped_column(String(24))
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))            # closed / hours / extra
    spans: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    workshop: Mapped[Workshop | None] = relationship(lazy="joined")


class CalendarYear(Base):
    """A year whose public holidays the plant has entered and confirmed (chinese-calendar has
    none for it): its dates are no longer provisional."""
    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(String(200), default="")


class PlanRun(Base):
    """The last full plan: when it was made and what it cost (one row per kind)."""
    __tablename__ = "plan_runs"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    planned_at: Mapped[datetime] = mapped_column(DateTime)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    steps_written: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    # the workshop whose queue adds the most lateness in this plan (storage.planner.bottleneck_of)
    bottleneck: Mapped[dict | None] = mapped_column(JSON)
    # how many whole plans have been stored: the jobs' plan, stored in batches, stops and starts
    # again if a command's whole plan was stored since it read its snapshot
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Question(Base):
    """The one question the bot last asked a person in a chat (is this reading right? how many?),
    kept for a few minutes so that `是` or `396` alone is understood, in any web worker and after
    a restart. `chat` is opaque to storage (`<platform>:<chat id>`, or `*` for any chat)."""
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("person_id", "chat"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    chat: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))        # confirm | quantity | order | text
    command: Mapped[str] = mapped_column(String(1000))   # what an answer runs; `{}` stands for the answer
    reading: Mapped[str] = mapped_column(String(500), default="")   # what was asked, in words
    source: Mapped[str] = mapped_column(String(200), default="")    # the message or click that asked
    asked_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


# -- who did the work (issue 18): shares of reports, the shift's team, piece rates --------------

class ReportShare(Base):
    """One worker's share of a report (who made the parts, for piece-rate pay). It stands, is
    undone and is corrected with its report; a report without shares is its reporter's."""
    __tablename__ = "report_shares"
    __table_args__ = (UniqueConstraint("report_id", "person_id"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    good: Mapped[int] = mapped_column(Integer)
    scrap: Mapped[int] = mapped_column(Integer, default=0)
    basis: Mapped[str] = mapped_column(String(8), default="named")   # named (in the report) / team (班组)


class TeamMember(Base):
    """Who works with a lead this shift (班组), in the order named; the rows go when it expires,
    is replaced or is cleared."""
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("lead_id", "person_id"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class PieceRate(Base):
    """Pay per good piece of a product at a workshop's step (计件单价), from `valid_from` on."""
    __tablename__ = "piece_rates"
    __table_args__ = (UniqueConstraint("product", "workshop_id", "valid_from"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    product: Mapped[str] = mapped_column(String(120))
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    rate: Mapped[float] = mapped_column(Numeric(12, 4))
    valid_from: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(40), default="config")
