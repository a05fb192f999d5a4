"""Photos of exceptions: checked by their content, kept as files under their SHA-256, and a row
tying each to its incident. The files live in a directory (`app.photo_dir`); a mounted object
store path works the same way."""
from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Incident, IncidentPhoto, Person

# What a photo's first bytes must be; the name and the sender's claims are not trusted.
SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg", "jpg"), (b"\x89PNG\r\n\x1a\n", "image/png", "png"))


class PhotoRefused(Exception):
    """A photo not kept: `code` is too_large, not_image or download."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the bytes themselves; WebP too (RIFF....WEBP)."""
    for magic, ctype, ext in SIGNATURES:
        if data.startswith(magic):
            return ctype, ext
    if len(data) > 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def save(directory: str | Path, data: bytes, max_bytes: int) -> tuple[str, str]:
    """Keep the photo (once, whatever how often it is sent); returns (sha256, content type)."""
    if len(data) > max_bytes:
        raise PhotoRefused("too_large")
    kind = sniff(data)
    if kind is None:
        raise PhotoRefused("not_image")
    sha = hashlib.sha256(data).hexdigest()
    path = file_path(directory, sha, kind[0])
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".photo-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)   # never a half-written file under the final name
    return sha, kind[0]


def file_path(directory: str | Path, sha: str, content_type: str) -> Path:
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[content_type]
    return Path(directory) / sha[:2] / f"{sha}.{ext}"


def attach(session: Session, now: datetime, incident: Incident, person: Person | None, sha: str,
           content_type: str, size: int, source: str) -> IncidentPhoto:
    photo = IncidentPhoto(incident_id=incident.id, sha256=sha, content_type=content_type, size=size,
                          person_id=person.id if person else None, source=source[:200], created_at=now)
    session.add(photo)
    session.flush()
    return photo


def latest_incident_of(session: Session, person: Person, since: datetime) -> Incident | None:
    """The exception this person opened most recently, still open, no earlier than `since`."""
    return session.scalars(select(Incident).where(Incident.opened_by == person.id, Incident.opened_at >= since,
                                                  Incident.closed_at.is_(None))
                           .order_by(Incident.opened_at.desc(), Incident.id.desc())).first()


def photos_of(session: Session, incident_ids: list[int]) -> dict[int, list[IncidentPhoto]]:
    out: dict[int, list[IncidentPhoto]] = {}
    if incident_ids:
        for photo in session.scalars(select(IncidentPhoto).where(IncidentPhoto.incident_id.in_(incident_ids))
                                     .order_by(IncidentPhoto.id)):
            out.setdefault(photo.incident_id, []).append(photo)
    return out
