"""WeCom's directory through the self-built app: `department/list`, `user/list` per department,
`tag/list` + `tag/get` for the tags that name roles, `user/get` for one user (contact events)."""
from __future__ import annotations

from bot.directory.source import DirectoryError, call_with_token, with_parents
from bot.wecom.api import TOKEN_INVALID
from storage.directory_sync import DirectoryUser

PRESENT = {1, 4}        # status: 1 active, 4 not yet activated; 2 disabled and 5 left are gone
USER_NOT_FOUND = 60111


class WeComDirectory:
    platform = "wecom"

    def __init__(self, platform, tag_names=()):
        self.api = platform.api
        self.tag_names = set(tag_names)

    def _get(self, path: str, **params) -> dict:
        return call_with_token(self.api, f"wecom {path}", TOKEN_INVALID, lambda token: self.api.http.get(
            self.api.base_url + path, params={"access_token": token, **params}, timeout=self.api.timeout))

    def _ok(self, path: str, **params) -> dict:
        data = self._get(path, **params)
        if data.get("errcode", 0):
            raise DirectoryError(f"wecom {path}: errcode {data['errcode']} {data.get('errmsg', '')}")
        return data

    def _parents(self) -> dict[str, str]:
        return {str(d["id"]): str(d.get("parentid") or "") for d in self._ok("/cgi-bin/department/list")["department"]}

    def _tags(self) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """Tag names by user id, and by department id (a tag given to a whole department)."""
        by_user: dict[str, set[str]] = {}
        by_dept: dict[str, set[str]] = {}
        for tag in self._ok("/cgi-bin/tag/list")["taglist"]:
            if tag["tagname"] not in self.tag_names:
                continue
            members = self._ok("/cgi-bin/tag/get", tagid=tag["tagid"])
            for user in members.get("userlist", []):
                by_user.setdefault(str(user["userid"]), set()).add(tag["tagname"])
            for dept in members.get("partylist", []):
                by_dept.setdefault(str(dept), set()).add(tag["tagname"])
        return by_user, by_dept

    def _user(self, raw: dict, parents: dict[str, str], tags) -> DirectoryUser:
        by_user, by_dept = tags
        departments = with_parents(raw.get("department") or [], parents)
        names = set(by_user.get(str(raw["userid"]), set()))
        for dept in departments:
            names |= by_dept.get(dept, set())
        return DirectoryUser(platform="wecom", user_id=str(raw["userid"]), name=str(raw.get("name") or raw["userid"]),
                             mobile=str(raw.get("mobile") or ""), email=str(raw.get("email") or ""),
                             departments=departments, tags=tuple(sorted(names)))

    def listing(self) -> list[DirectoryUser]:
        parents = self._parents()
        tags = self._tags()
        users: dict[str, DirectoryUser] = {}
        for dept in parents:
            for raw in self._ok("/cgi-bin/user/list", department_id=dept)["userlist"]:
                if str(raw["userid"]) not in users and raw.get("status", 1) in PRESENT:
                    users[str(raw["userid"])] = self._user(raw, parents, tags)
        return list(users.values())

    def user(self, user_id: str) -> DirectoryUser | None:
        raw = self._get("/cgi-bin/user/get", userid=user_id)
        if raw.get("errcode") == USER_NOT_FOUND:
            return None
        if raw.get("errcode", 0):
            raise DirectoryError(f"wecom user/get: errcode {raw['errcode']}")
        if raw.get("status", 1) not in PRESENT:
            return None
        return self._user(raw, self._parents(), self._tags())


def source(platform, tag_names) -> WeComDirectory:
    return WeComDirectory(platform, tag_names)
