"""Every way the directory is written raises its version, so the per-process cache of people and
groups (storage/directory_cache.py) never answers with what was true before: the directory sync
(full run and contact events, including the id rename sent as one UPDATE), the master-data API
and the spreadsheet import (another engine: another process's cache). End to end: the change is
made, then the next message through the WeCom twin, handled by the same process that cached the
person a moment before, is answered as the change says. Real database, no mocks."""
from __future__ import annotations

import io

import requests
from sqlalchemy import func, select, text, update

from bot.directory.sync import run_sync
from bot.master_cli import run_master_import
from storage.models import DirectoryVersion, Person, PersonIdentity, Report
from tests.test_directory_sync import join_both, plant  # noqa: F401 (fixture)

KEY = {"Authorization": "Bearer demo-api-key-change-me-0123456789"}


def version(live) -> int:
    with live.relay.Session() as s:
        return s.scalar(select(DirectoryVersion.version))


def reports(live) -> int:
    with live.relay.Session() as s:
        return s.scalar(select(func.count()).select_from(Report))


def test_a_sync_that_moves_a_lead_and_changes_their_role_is_heard_at_the_next_message(plant):  # noqa: F811
    join_both(plant)                       # 钱八: 班组长 (lead) of 冲压 on both platforms
    run_sync(plant.relay)
    plant.add_order("SO-1001", quantity=200)
    assert "已报工" in plant.say("qianba", "报工 SO-1001 5")   # the app's process now caches 钱八 as a lead
    assert reports(plant) == 1
    before = version(plant)
    for twin, prefix, dept in ((plant.twin, "", 12), (plant.dingtalk, "dt-", 212)):
        twin.directory.move(f"{prefix}qianba", [dept])
        twin.directory.tag(f"{prefix}qianba", "班组长", remove=True)
        twin.directory.tag(f"{prefix}qianba", "车间主任")
    assert run_sync(plant.relay).changed == ["钱八: roles, workshops"]
    assert version(plant) > before
    reply = plant.say("qianba", "报工 SO-1001 6")
    assert "已报工" not in reply, reply        # no longer a lead of 冲压: refused, nothing counted
    assert reports(plant) == 1
    with plant.relay.Session() as s:
        qian = s.scalars(select(Person).where(Person.name == "钱八")).one()
        assert qian.roles == "head" and [w.code for w in qian.workshops] == ["welding"]


def test_a_sync_that_finds_everything_as_it_was_leaves_the_version_alone(plant):  # noqa: F811
    before = version(plant)
    assert not run_sync(plant.relay)
    assert version(plant) == before           # caches stay warm after the daily no-change run


def test_a_leaver_from_a_sync_is_nobody_at_the_next_message(plant):  # noqa: F811
    join_both(plant)
    run_sync(plant.relay)
    plant.add_order("SO-1001", quantity=200)
    assert "SO-1001" in plant.say("qianba", "进度 SO-1001")
    plant.twin.directory.leave("qianba")
    plant.dingtalk.directory.leave("dt-qianba")
    assert run_sync(plant.relay).left == ["钱八"]
    assert "还没有登记" in plant.say("qianba", "进度 SO-1001")


def test_a_renamed_user_id_event_is_heard_under_the_new_id_only(plant):  # noqa: F811
    plant.add_order("SO-1001", quantity=200)
    plant.twin.directory.join("qianqi", "钱七", [11], "", tags=["班组长"])
    plant.twin.contact_event("create_user", "qianqi")
    assert "SO-1001" in plant.say("qianqi", "进度 SO-1001")        # cached under qianqi
    assert "还没有登记" in plant.say("qian7", "进度 SO-1001")      # and qian7 cached as nobody
    plant.twin.directory.leave("qianqi")
    plant.twin.directory.join("qian7", "钱七", [11], "", tags=["班组长"])
    before = version(plant)
    assert plant.twin.contact_event("update_user", "qianqi", NewUserID="qian7").status == 200
    assert version(plant) > before            # the rename is one UPDATE statement, not a flush
    assert "SO-1001" in plant.say("qian7", "进度 SO-1001")
    assert "还没有登记" in plant.say("qianqi", "进度 SO-1001")


def test_the_master_data_api_moving_a_person_is_heard_at_the_next_message(plant):  # noqa: F811
    plant.add_order("SO-1001", quantity=200)
    body = {"name": "郑十", "mobile": "13800001111", "ids": {"wecom": "zhengshi"}, "roles": ["lead"],
            "workshops": ["冲压"]}
    assert requests.post(f"{plant.url}/api/people", json=body, headers=KEY, timeout=30).status_code == 201
    assert "已报工" in plant.say("zhengshi", "报工 SO-1001 5")
    moved = requests.post(f"{plant.url}/api/people", json={**body, "workshops": ["焊接"]}, headers=KEY, timeout=30)
    assert moved.status_code == 200, moved.text
    reply = plant.say("zhengshi", "报工 SO-1001 6")
    assert "已报工" not in reply, reply
    assert reports(plant) == 1


def test_a_people_spreadsheet_imported_by_another_process_is_heard_at_the_next_message(plant, tmp_path):  # noqa: F811
    plant.add_order("SO-1001", quantity=200)
    path = tmp_path / "people.csv"
    path.write_text("name,mobile,wecom_userid,roles,workshops\n郑十,13800001111,zhengshi,lead,冲压\n", encoding="utf-8")
    assert run_master_import(plant.relay.settings, path, "people", out=io.StringIO(), err=io.StringIO()) == 0
    assert "已报工" in plant.say("zhengshi", "报工 SO-1001 5")
    path.write_text("name,mobile,wecom_userid,roles,workshops,active\n郑十,13800001111,zhengshi,lead,冲压,离职\n",
                    encoding="utf-8")
    before = version(plant)
    assert run_master_import(plant.relay.settings, path, "people", out=io.StringIO(), err=io.StringIO()) == 0
    assert version(plant) > before
    assert "还没有登记" in plant.say("zhengshi", "报工 SO-1001 6")   # left: nobody
    assert reports(plant) == 1


def test_core_and_textual_writes_raise_the_version_once_per_transaction(plant):  # noqa: F811
    before = version(plant)
    with plant.relay.Session.begin() as s:   # Core on the session's connection, then SQL text, then ORM bulk
        s.connection().execute(update(Person.__table__).where(Person.__table__.c.name == "张伟").values(roles="head"))
        s.execute(text("UPDATE people SET roles = 'lead' WHERE name = '张伟'"))
        s.execute(update(PersonIdentity).where(PersonIdentity.user_id == "lina").values(user_id="lina"))
    assert version(plant) == before + 1
    with plant.relay.Session.begin() as s:   # a rolled-back savepoint takes its raise along: the next write raises again
        with s.begin_nested() as savepoint:
            s.execute(update(Person).where(Person.name == "张伟").values(roles="head"))
            savepoint.rollback()
        s.execute(update(Person).where(Person.name == "张伟").values(roles="lead"))
    assert version(plant) == before + 2
    with plant.relay.engine.begin() as conn:   # a bare connection, no session at all
        conn.execute(update(Person.__table__).where(Person.__table__.c.name == "张伟").values(roles="lead"))
    assert version(plant) == before + 3
