"""`linerelay import routes.xlsx|people.xlsx`: the plant's routings and people from the planners'
spreadsheets, bad rows reported by line, re-imports idempotent, orders built on imported routes."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from bot.importer import run_import
from bot.master_cli import detect_kind, run_master_import
from storage.models import Event, Order, Person, Route
from tests.test_import import db  # noqa: F401 (fixture: a migrated database with the demo plant)

ROUTES = ("product,step,workshop,units_per_hour,setup_minutes\n"
          "后视镜支架,1,冲压,120,30\n"
          "后视镜支架,2,焊接车间,60,\n"
          "后视镜支架,3,总装,80,15\n"
          "仪表横梁,1,stamping,50,0\n"
          "仪表横梁,2,喷漆,40,0\n"              # line 6: no such workshop
          "仪表横梁,3,总装,30,0\n"
          "副车架,1,冲压,abc,0\n"               # line 8: the rate is not a number
          "座椅骨架,1,冲压,200,0\n"
          "座椅骨架,1,焊接,100,0\n")            # line 10: step 1 twice


def run(settings, path, kind):
    out, err = io.StringIO(), io.StringIO()
    code = run_master_import(settings, path, kind, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def route(Session, product):
    with Session() as s:
        r = s.scalars(select(Route).where(Route.product == product)).first()
        return None if r is None else [(st.seq, st.workshop.code, st.units_per_hour, st.setup_minutes) for st in r.steps]


def test_routes_import_with_row_errors_by_line(db, tmp_path):  # noqa: F811
    settings, Session = db
    path = tmp_path / "routes.csv"
    path.write_text(ROUTES, encoding="utf-8")
    assert detect_kind(path) == "routes"
    configured = route(Session, "座椅骨架")
    code, out, err = run(settings, path, "routes")
    assert code == 1
    assert "routes created 1, updated 0, unchanged 0, rejected 3" in out
    lines = err.splitlines()
    assert lines == ["line 5: 仪表横梁: not imported, its route has a wrong row (line 6)",
                     'line 6: workshop "喷漆" is not one of: 冲压, 焊接, 涂装, 总装',
                     "line 7: 仪表横梁: not imported, its route has a wrong row (line 6)",
                     'line 8: units_per_hour "abc" must be a number from 0.001 to 100000',
                     "line 9: 座椅骨架: not imported, its route has a wrong row (line 10)",
                     "line 10: step 1 of 座椅骨架 is on line 9 too"]
    assert route(Session, "后视镜支架") == [(1, "stamping", 120.0, 30), (2, "welding", 60.0, 0), (3, "assembly", 80.0, 15)]
    assert route(Session, "仪表横梁") is None and route(Session, "副车架") is None
    assert route(Session, "座椅骨架") == configured   # the config's, untouched


def test_a_route_reimported_is_unchanged_then_replaced(db, tmp_path):  # noqa: F811
    settings, Session = db
    path = tmp_path / "routes.csv"
    path.write_text("产品,工序,车间,标准产能\n后视镜支架,1,冲压,120\n后视镜支架,2,焊接,60\n", encoding="gbk")
    assert run(settings, path, "routes")[0] == 0
    assert "unchanged 1" in run(settings, path, "routes")[1]
    path.write_text("产品,工序,车间,标准产能\n后视镜支架,1,冲压,100\n", encoding="gbk")
    assert "updated 1" in run(settings, path, "routes")[1]
    assert route(Session, "后视镜支架") == [(1, "stamping", 100.0, 0)]
    with Session() as s:
        assert len(s.scalars(select(Event).where(Event.kind == "route_set")).all()) == 2


def test_an_order_for_an_imported_product_takes_its_route(db, tmp_path):  # noqa: F811
    settings, Session = db
    (tmp_path / "routes.xlsx").write_bytes(b"")
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["product", "step", "workshop", "units_per_hour"])
    for row in (["后视镜支架", 2, "焊接", 60.0], ["后视镜支架", 1, "冲压", 120]):
        book.active.append(row)
    book.save(tmp_path / "routes.xlsx")
    assert run(settings, tmp_path / "routes.xlsx", "routes")[0] == 0
    (tmp_path / "orders.csv").write_text("order_no,product,quantity,due_date\nSO-7001,后视镜支架,100,2026-12-20\n")
    assert run_import(settings, tmp_path / "orders.csv", out=io.StringIO(), err=io.StringIO()) == 0
    with Session() as s:
        order = s.scalars(select(Order).where(Order.order_no == "SO-7001")).one()
        assert [st.workshop.code for st in order.steps] == ["stamping", "welding"]


PEOPLE = ("姓名,手机,企业微信,钉钉,角色,车间,在职\n"
          "郑十,138 0000 1111,zhengshi,dt-zhengshi,班组长,冲压,是\n"
          "冯十一,13800002222,,,,焊接,\n"
          "陈十二,12345,chen12,,,,\n"                 # line 4: not a mobile number
          "李四,13800003333,lisi,,班长,,\n"        # line 5: unknown role
          "周八,13800004444,zhouba,,车间主任,,\n"  # line 6: a head without workshops
          "张伟,13800000001,zhangwei,,班组长 计划员,冲压,\n")   # the demo's lead, now a planner too


def people(Session):
    with Session() as s:
        return {p.name: ({i.platform: i.user_id for i in p.identities}, p.roles, [w.code for w in p.workshops], p.active)
                for p in s.scalars(select(Person))}


def test_people_import_with_row_errors_by_line(db, tmp_path):  # noqa: F811
    settings, Session = db
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8-sig")
    assert detect_kind(path) == "people"
    code, out, err = run(settings, path, "people")
    assert code == 1 and "people created 2, updated 1, unchanged 0, rejected 3" in out
    assert err.splitlines() == [
        'line 4: mobile "12345" is not a mainland mobile number (11 digits starting with 1)',
        'line 5: role "班长" is not one of 班组长 (lead), 车间主任 (head), 计划员 (planner), 经理/厂长 (manager), 管理员 (admin)',
        "line 6: a lead or head needs the workshops they lead (column workshops)"]
    found = people(Session)
    assert found["郑十"] == ({"wecom": "zhengshi", "dingtalk": "dt-zhengshi"}, "lead", ["stamping"], True)
    assert found["冯十一"] == ({}, "", ["welding"], True)     # a worker without a chat account
    assert found["张伟"] == ({"wecom": "zhangwei", "dingtalk": "dt-zhangwei"}, "lead planner", ["stamping"], True)
    assert "陈十二" not in found and "李四" not in found and "周八" not in found
    assert "unchanged 3" in run(settings, path, "people")[1]      # the same file again changes nothing


def test_a_leaver_in_the_people_file_is_deactivated(db, tmp_path):  # noqa: F811
    settings, Session = db
    path = tmp_path / "people.csv"
    path.write_text("name,mobile,wecom_userid,active\n郑十,13800001111,zhengshi,在职\n", encoding="utf-8")
    run(settings, path, "people")
    path.write_text("name,mobile,wecom_userid,active\n郑十,13800001111,zhengshi,离职\n", encoding="utf-8")
    assert "updated 1" in run(settings, path, "people")[1]
    assert people(Session)["郑十"][3] is False


def test_an_id_that_is_someone_elses_is_a_row_error(db, tmp_path):  # noqa: F811
    settings, Session = db
    path = tmp_path / "people.csv"
    path.write_text("name,wecom_userid,dingtalk_userid\n新人,zhangwei,dt-lina\n", encoding="utf-8")
    code, _out, err = run(settings, path, "people")
    assert code == 1 and err.strip() == "line 2: its ids belong to different people: 张伟, 李娜"


def test_the_cli_tells_the_kind_from_the_header(db, tmp_path):  # noqa: F811
    from bot.cli import main
    settings, Session = db
    config = tmp_path / "config.toml"
    from tests.helpers import EXAMPLE_CONFIG
    config.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'database_url = "sqlite:///linerelay.db"', f'database_url = "{settings.app.database_url}"'), encoding="utf-8")
    path = tmp_path / "routes.csv"
    path.write_text("product,step,workshop,units_per_hour\n后视镜支架,1,冲压,120\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(config), "import", str(path)])
    assert exit_.value.code == 0 and route(Session, "后视镜支架") == [(1, "stamping", 120.0, 0)]
