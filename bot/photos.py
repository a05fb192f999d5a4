"""Photos sent to the bot: fetched before the message's transaction, kept (storage/photos.py),
attached to the sender's exception, linked from its notice and shown on the order page.

A photo sent with `异常 …` goes to the exception it opens; a photo alone goes to the sender's
own exception opened within `app.photo_minutes` and still open. Anything else is refused with a
clear answer and changes nothing.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from bot import links
from bot.handlers.base import Context
from bot.neutral import ChatMessage, Reply
from bot.services import Services
from storage.models import Incident, IncidentPhoto, Step
from storage.photos import PhotoRefused, attach, latest_incident_of, save

log = logging.getLogger(__name__)
Fetched = list[bytes | str]   # a photo's bytes, or why it could not be fetched ("download")


def fetch(message: ChatMessage, max_bytes: int) -> Fetched:
    """Every photo of the message, downloaded now (WeCom's URLs last five minutes)."""
    out: Fetched = []
    for photo in message.photos:
        try:
            data = photo.fetch()
            out.append(data if len(data) <= max_bytes else "too_large")
        except PhotoRefused as exc:
            out.append(exc.code)
        except Exception as exc:   # the platform's download failed: said in the reply, nothing kept
            log.warning("photo %s of %s not fetched: %s", photo.ref, message.message_id, exc)
            out.append("download")
    return out


class PhotoDesk:
    def __init__(self, services: Services):
        self.services = services

    def attach(self, session: Session, ctx: Context, fetched: Fetched, reply: Reply | None) -> Reply:
        """Keep the photos and attach them; the reply (the command's, with the count, or its own)."""
        app = self.services.settings.app
        incident = None
        if ctx.person is not None:
            incident = latest_incident_of(session, ctx.person, ctx.now - timedelta(minutes=app.photo_minutes))
        if incident is None:
            return Reply("errors/photo_no_incident", {"minutes": app.photo_minutes})
        kept: list[IncidentPhoto] = []
        refused: list[str] = []
        for item in fetched:
            try:
                if isinstance(item, str):
                    raise PhotoRefused(item)
                sha, ctype = save(app.photo_dir, item, app.max_photo_bytes)
                kept.append(attach(session, ctx.now, incident, ctx.person, sha, ctype, len(item), ctx.source))
            except PhotoRefused as exc:
                refused.append(exc.code)
        urls = [self.url(p) for p in kept]
        urls = [u for u in urls if u]
        opened = [n for n in ctx.notices if n.template == "notices/incident_opened"]
        for notice in opened:   # sent with `异常 …`: its notice links them
            notice.context["photos"] = urls
        step = session.get(Step, incident.step_id)
        assert step is not None
        context = {"order_no": step.order.order_no, "workshop": step.workshop.name, "category": incident.category,
                   "description": incident.description, "count": len(kept), "link": urls[0] if urls else "",
                   "refused": len(refused), "refused_codes": refused, "max_mb": app.max_photo_bytes // (1024 * 1024)}
        if kept and not opened:
            self._notify(ctx, step, incident, urls)
        if reply is not None and reply.template == "incident_ok" and not refused:
            return Reply(reply.template, {**reply.context, "photos": len(kept)})
        return Reply("photo_ok", context)

    def _notify(self, ctx: Context, step: Step, incident: Incident, urls: list[str]) -> None:
        """A photo after the exception: the same people as its notice get the links."""
        if not urls:
            return
        context = {"order_no": step.order.order_no, "workshop": step.workshop.name, "category": incident.category,
                   "reporter": ctx.person.name if ctx.person else "", "links": urls}
        key = f"incident:{incident.id}:photo:{ctx.source}"
        for later in (s for s in step.order.steps if s.seq > step.seq):
            ctx.notify_workshop(later.workshop_id, "notices/incident_photo", key=f"{key}:{later.workshop_id}", **context)
        ctx.notify_role("managers", "notices/incident_photo", key=f"{key}:managers", **context)

    def url(self, photo: IncidentPhoto) -> str:
        """The photo behind a signed read-only link (empty where the server has no address)."""
        base, tokens = self.services.public_url, self.services.settings.api.board_tokens
        token = links.link_token(tokens, self.services.clock.now())
        if not base or token is None:
            return ""
        return links.photo_url(base, photo.id, token)
