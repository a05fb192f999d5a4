"""The sandbox's calendar page: the next 30 days for each workshop, as the plan counts them
(working hours, closures, overtime, public holidays, and days still provisional)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint
from sqlalchemy import select

from planning.calendar import format_spans
from storage import planner
from storage.calendar import entries, unknown_years
from storage.models import Workshop


def calendar_days(relay, days: int = 30) -> dict:
    """Per day and workshop: its hours ("" when closed) and why it differs from a normal day."""
    today = relay.clock.today()
    with relay.Session() as session:
        cal = planner.calendar(session, relay.plan)
        workshops = [{"id": w.id, "name": w.name} for w in session.scalars(select(Workshop).order_by(Workshop.id))]
        notes = {(e.day, e.workshop_id): e.note or e.kind for e in entries(session, today, today + timedelta(days=days))}
        rows = []
        for i in range(days):
            day = today + timedelta(days=i)
            rows.append({"day": day, "weekday": "一二三四五六日"[day.weekday()], "provisional": cal.provisional(day),
                         "public": cal.public_day(day),
                         "cells": [{"hours": format_spans(cal.spans(day, w["id"])),
                                    "note": notes.get((day, w["id"])) or notes.get((day, None)) or ""}
                                   for w in workshops]})
        unknown = unknown_years(cal, today)
        session.rollback()
    return {"workshops": workshops, "rows": rows, "unknown": unknown}


def calendar_blueprint(relay) -> Blueprint:
    bp = Blueprint("sandbox_calendar", __name__)

    @bp.get("/sandbox/calendar")
    def page():
        from bot.board import render_page
        return render_page("sandbox_calendar", **calendar_days(relay))

    return bp
