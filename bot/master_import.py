"""`linerelay import routes.xlsx` and `linerelay import people.xlsx`: the plant's routings and
people from spreadsheets (CSV in UTF-8 or GBK, or Excel's first sheet), English or Chinese headers.

Like orders' import, every row is checked and a bad row is reported with its line number and
imports nothing. A product's route is its rows together: one bad row rejects that product's
route (each of its lines says so) and the other products still import. The REST API (bot/api_master.py)
checks bodies with these same functions.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot import importer
from sqlalchemy.orm import Session

from storage.directory import workshop_by_name
from storage.directory_sync import DirectoryUser, match_key
from storage.errors import UnknownWorkshop
from storage.masterdata import MasterDataConflict, PersonData, RouteStepData, upsert_person, upsert_route

ROUTE_REQUIRED = ("product", "step", "workshop", "units_per_hour")
ROUTE_ALIASES = {"产品": "product", "产品名称": "product", "工序": "step", "工序号": "step", "序号": "step", "seq": "step",
                 "车间": "workshop", "标准产能": "units_per_hour", "每小时产量": "units_per_hour", "rate": "units_per_hour",
                 "准备时间": "setup_minutes", "换型时间": "setup_minutes", "setup": "setup_minutes"}
PEOPLE_REQUIRED = ("name",)
PEOPLE_ALIASES = {"姓名": "name", "手机": "mobile", "手机号": "mobile", "邮箱": "email", "角色": "roles",
                  "车间": "workshops", "在职": "active", "企业微信": "wecom_userid", "钉钉": "dingtalk_userid"}
ROLE_WORDS = {"lead": "lead", "班组长": "lead", "head": "head", "车间主任": "head", "planner": "planner",
              "计划员": "planner", "manager": "manager", "经理": "manager", "厂长": "manager", "admin": "admin",
              "管理员": "admin"}
YES = {"", "1", "true", "yes", "y", "是", "在职"}
NO = {"0", "false", "no", "n", "否", "离职"}
# Controls and every character Python's str.strip() removes, spelled out: \s means different
# characters to Python's and ECMA's regexes, and the API publishes these patterns in its schema
SPACES = r"\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
EMAIL = rf"^[^@{SPACES}]+@[^@{SPACES}]+$"   # a cell is stripped first: "a@b\u00a0" must not pass the schema and fail here
_SPLIT = re.compile(r"[\s,，、;；/]+")
MAX_RATE = 100_000


class BadRow(ValueError):
    pass


@dataclass
class Tally(importer.Tally):
    errors: list[tuple[int, str]] = field(default_factory=list)   # (line, what is wrong)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def line(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, rejected {self.rejected}"


def _text(values: dict, name: str, limit: int) -> str:
    value = values.get(name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)   # Excel keeps numbers (mobiles, ids) as floats
    text = str(value if value is not None else "").strip()
    if len(text) > limit:
        raise BadRow(f"{name} is at most {limit} characters")
    return text


def _number(values: dict, name: str, low: float, high: float, *, whole: bool, default=None) -> Any:
    raw = values.get(name)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):   # a number already (JSON, Excel)
        text = str(raw)
        value: Any = raw if not whole else int(raw) if float(raw).is_integer() else None
    else:
        text = _text(values, name, 20)   # text is bounded before any conversion
        if not text and default is not None:
            return default
        try:
            value = float(text) if not whole else int(float(text)) if re.fullmatch(r"\d+(\.0+)?", text) else None
        except ValueError:
            value = None
    if value is None or value != value or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise BadRow(f'{name} "{text}" must be {kind} from {low:g} to {high:g}')
    return value


def _workshop(session: Session, name: str) -> int:
    try:
        return workshop_by_name(session, name).id
    except UnknownWorkshop as exc:
        raise BadRow(f'workshop "{name}" is not one of: {", ".join(exc.data["known"])}') from None


def parse_route_row(session: Session, values: dict) -> tuple[str, int, RouteStepData]:
    """One routing row: (product, step number, the step)."""
    product = _text(values, "product", 120)
    if not product:
        raise BadRow("product is empty")
    step = _number(values, "step", 1, 99, whole=True)
    workshop = _text(values, "workshop", 40)
    if not workshop:
        raise BadRow("workshop is empty")
    rate = _number(values, "units_per_hour", 0.001, MAX_RATE, whole=False)
    setup = _number(values, "setup_minutes", 0, 1440, whole=True, default=0)
    return product, step, RouteStepData(_workshop(session, workshop), rate, setup)


def import_routes(session: Session, now, rows: list[tuple[int, dict]], source: str) -> Tally:
    """Routes from (line, row) pairs, product by product; the tally counts routes."""
    products: dict[str, list[tuple[int, int, RouteStepData]]] = {}
    bad: dict[str, list[tuple[int, str]]] = {}
    tally = Tally()
    for line, values in rows:
        try:
            product, step, data = parse_route_row(session, values)
        except BadRow as exc:
            product = _text({"p": values.get("product")}, "p", 10_000)[:120]
            bad.setdefault(product, []).append((line, str(exc)))
            products.setdefault(product, [])
            continue
        earlier = next((ln for ln, s, _ in products.get(product, []) if s == step), None)
        if earlier is not None:
            bad.setdefault(product, []).append((line, f"step {step} of {product} is on line {earlier} too"))
        products.setdefault(product, []).append((line, step, data))
    for product, steps in products.items():
        if product in bad or not product:
            tally.rejected += 1
            wrong = {ln for ln, _ in bad.get(product, [])}
            tally.errors += bad.get(product, [])
            tally.errors += [(ln, f"{product}: not imported, its route has a wrong row (line "
                                  f"{min(wrong)})") for ln, _, _ in steps if ln not in wrong]
            continue
        ordered = [data for _, _, data in sorted(steps, key=lambda s: s[1])]
        with session.begin_nested():
            _, outcome = upsert_route(session, now, product, ordered, source=f"{source}:{steps[0][0]}")
        tally.count(outcome)
    tally.errors.sort()
    return tally


def parse_person_row(session: Session, values: dict, user_keys: dict[str, str], match_by: str) -> PersonData:
    """One people row; `user_keys` maps each platform to its column (wecom → wecom_userid)."""
    name = _text(values, "name", 80)
    if not name:
        raise BadRow("name is empty")
    ids = tuple((platform, uid) for platform, column in user_keys.items() if (uid := _text(values, column, 80)))
    mobile = re.sub(r"[\s\-]", "", _text(values, "mobile", 20))
    if mobile and not re.fullmatch(r"(\+?86)?1\d{10}", mobile):
        raise BadRow(f'mobile "{mobile}" is not a mainland mobile number (11 digits starting with 1)')
    email = _text(values, "email", 100)
    if email and not re.search(EMAIL, email):
        raise BadRow(f'email "{email}" is not an e-mail address')
    roles = []
    for word in filter(None, _SPLIT.split(_text(values, "roles", 200))):
        if word.lower() not in ROLE_WORDS:
            raise BadRow(f'role "{word}" is not one of 班组长 (lead), 车间主任 (head), 计划员 (planner), '
                         f'经理/厂长 (manager), 管理员 (admin)')
        roles.append(ROLE_WORDS[word.lower()])
    workshops = tuple(_workshop(session, w) for w in filter(None, _SPLIT.split(_text(values, "workshops", 400))))
    if {"lead", "head"} & set(roles) and not workshops:
        raise BadRow("a lead or head needs the workshops they lead (column workshops)")
    active = _text(values, "active", 10).lower()
    if active not in YES | NO:
        raise BadRow(f'active "{active}" must be 是/在职/1 or 否/离职/0')
    key = match_key(DirectoryUser("", "", name, mobile=mobile, email=email), match_by) if match_by != "userid" else ""
    return PersonData(name=name, roles=tuple(roles), workshop_ids=workshops, ids=ids, key=key, active=active in YES)


def import_people(session: Session, now, rows: list[tuple[int, dict]], source: str,
                  parse: Callable[[Session, dict], PersonData]) -> Tally:
    """People from (line, row) pairs, each row on its own."""
    tally = Tally()
    for line, values in rows:
        try:
            data = parse(session, values)
            with session.begin_nested():
                _, outcome = upsert_person(session, now, data, source=f"{source}:{line}")
        except (BadRow, MasterDataConflict, SQLAlchemyError) as exc:
            tally.rejected += 1
            tally.errors.append((line, str(exc)))
            continue
        tally.count(outcome)
    return tally


def person_parser(settings) -> Callable[[Session, dict], PersonData]:
    from bot.directory.settings import DirectorySettings
    from bot.platforms import registry
    keys = {s.name: s.user_key for s in registry.specs() if s.user_key and not s.people_of}
    match_by = (settings.directory or DirectorySettings()).match_by
    return lambda session, values: parse_person_row(session, values, keys, match_by)
