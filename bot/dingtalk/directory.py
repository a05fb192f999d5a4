"""DingTalk's directory through the internal app (oapi host, the app's access token):
`topapi/v2/department/listsub` from the root down, `topapi/v2/user/list` per department,
`topapi/role/list` + `topapi/role/simplelist` for the roles that name LineRelay roles,
`topapi/v2/user/get` for one user (contact events)."""
from __future__ import annotations

from bot.directory.source import DirectoryError, call_with_token, with_parents
from storage.directory_sync import DirectoryUser

TOKEN_INVALID = {40014, 42001}
USER_NOT_FOUND = 60121
ROOT = "1"
PAGE = 100


class DingTalkDirectory:
    platform = "dingtalk"

    def __init__(self, platform, role_names=()):
        self.api = platform.api
        self.role_names = set(role_names)

    def _post(self, path: str, body: dict) -> dict:
        return call_with_token(self.api, f"dingtalk {path}", TOKEN_INVALID, lambda token: self.api.http.post(
            f"{self.api.oapi}{path}", params={"access_token": token}, json=body, timeout=10))

    def _ok(self, path: str, body: dict):
        data = self._post(path, body)
        if data.get("errcode", 0):
            raise DirectoryError(f"dingtalk {path}: errcode {data['errcode']} {data.get('errmsg', '')}")
        return data["result"]

    def _parents(self) -> dict[str, str]:
        parents: dict[str, str] = {ROOT: ""}
        todo = [ROOT]
        while todo:
            dept = todo.pop(0)
            for sub in self._ok("/topapi/v2/department/listsub", {"dept_id": int(dept)}):
                child = str(sub["dept_id"])
                if child not in parents:
                    parents[child] = dept
                    todo.append(child)
        return parents

    def _roles(self) -> dict[str, set[str]]:
        by_user: dict[str, set[str]] = {}
        for group in self._ok("/topapi/role/list", {"offset": 0, "size": 200})["list"]:
            for role in group.get("roles", []):
                if role["name"] not in self.role_names:
                    continue
                offset = 0
                while True:
                    page = self._ok("/topapi/role/simplelist", {"role_id": role["id"], "offset": offset, "size": 200})
                    for user in page.get("list", []):
                        by_user.setdefault(str(user["userid"]), set()).add(role["name"])
                    if not page.get("hasMore"):
                        break
                    offset += 200
        return by_user

    def _user(self, raw: dict, parents: dict[str, str], roles: dict[str, set[str]]) -> DirectoryUser:
        return DirectoryUser(platform="dingtalk", user_id=str(raw["userid"]), name=str(raw.get("name") or raw["userid"]),
                             mobile=str(raw.get("mobile") or ""), email=str(raw.get("email") or ""),
                             job_number=str(raw.get("job_number") or ""),
                             departments=with_parents(raw.get("dept_id_list") or [], parents),
                             tags=tuple(sorted(roles.get(str(raw["userid"]), set()))))

    def listing(self) -> list[DirectoryUser]:
        parents = self._parents()
        roles = self._roles()
        users: dict[str, DirectoryUser] = {}
        for dept in parents:
            cursor = 0
            while True:
                page = self._ok("/topapi/v2/user/list", {"dept_id": int(dept), "cursor": cursor, "size": PAGE})
                for raw in page.get("list", []):
                    users.setdefault(str(raw["userid"]), self._user(raw, parents, roles))
                if not page.get("has_more"):
                    break
                cursor = page["next_cursor"]
        return list(users.values())

    def user(self, user_id: str) -> DirectoryUser | None:
        data = self._post("/topapi/v2/user/get", {"userid": user_id})
        if data.get("errcode") == USER_NOT_FOUND:
            return None
        if data.get("errcode", 0):
            raise DirectoryError(f"dingtalk user/get: errcode {data['errcode']}")
        return self._user(data["result"], self._parents(), self._roles())


def source(platform, role_names) -> DingTalkDirectory:
    return DingTalkDirectory(platform, role_names)
