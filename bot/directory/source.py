"""What a platform's directory gives the sync: everyone in the app's visible range, or one user."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import requests

from storage.directory_sync import DirectoryUser


class DirectoryError(RuntimeError):
    """The platform's directory could not be read (network, refused, unexpected answer)."""


class DirectorySource(Protocol):
    platform: str

    def listing(self) -> list[DirectoryUser]:
        """Everyone the app may see, each with their departments (and the departments' parents)."""
        ...

    def user(self, user_id: str) -> DirectoryUser | None:
        """One user as the directory has them now; None when they are not in it (left)."""
        ...


def with_parents(departments, parents: dict[str, str]) -> tuple[str, ...]:
    """The departments and every department above them, in a stable order."""
    result: list[str] = []
    for dept in departments:
        dept = str(dept)
        while dept and dept not in result:
            result.append(dept)
            dept = parents.get(dept, "")
    return tuple(result)


def call_with_token(api: Any, label: str, invalid: set[int], send: Callable[[str], Any]) -> dict:
    """`send(access_token)` → the platform's JSON answer; the token is refreshed once when the
    platform refuses it (its codes in `invalid`). Network errors and non-JSON are DirectoryErrors."""
    for attempt in (0, 1):
        token = api.access_token(force=attempt == 1)
        try:
            data = send(token).json()
        except (requests.RequestException, ValueError) as exc:
            raise DirectoryError(f"{label}: {type(exc).__name__}") from exc
        if data.get("errcode", 0) not in invalid:
            return data
    raise DirectoryError(f"{label}: access token refused twice")
