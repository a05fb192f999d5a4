"""Directory sync against the WeCom and DingTalk twins: join, department move, role change,
leave, an id on one platform only, and a second run that changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.directory.sync import run_sync
from storage.models import Event, Person
from tests.helpers import snapshot

# The demo plant's people, as the two directories list them (same mobile on both).
DEMO = [("张伟", "zhangwei", 11, "13800000001"), ("李娜", "lina", 12, "13800000002"),
        ("王强", "wangqiang", 12, "13800000003"), ("赵敏", "zhaomin", 13, "13800000004"),
        ("刘洋", "liuyang", 14, "13800000005"), ("钱主任", "qianzhuren", 11, "13800000006"),
        ("陈静", "chenjing", 20, "13800000007"), ("周总", "zhouzong", 20, "13800000008"),
        ("吴经理", "wujingli", 20, "13800000009"), ("孙工", "sungong", 20, "13800000010"),
        ("王五", "wangwu", 11, "13800000011"), ("赵六", "zhaoliu", 12, "13800000012"), ("孙七", "sunqi", 13, "13800000013")]


def seed_directories(live) -> None:
    for twin, base in ((live.twin, 0), (live.dingtalk, 200)):
        d = twin.directory
        for dept, name in ((11, "冲压车间"), (12, "焊接车间"), (13, "涂装车间"), (14, "总装车间"), (20, "总经办")):
            d.department(base + dept, name)
        d.department(base + 111, "冲压一班", parent=base + 11)
    for name, uid, dept, mobile in DEMO:
        live.twin.directory.join(uid, name, [dept], mobile)
        live.dingtalk.directory.join(f"dt-{uid}", name, [200 + dept], mobile)


@pytest.fixture
def plant(live):
    seed_directories(live)
    run_sync(live.relay)
    return live


def person(live, name: str) -> Person | None:
    with live.relay.Session() as s:
        p = s.scalars(select(Person).where(Person.name == name)).first()
        if p is not None:
            s.expunge(p)
        return p


def ids(p: Person) -> dict[str, str]:
    return {i.platform: i.user_id for i in p.identities}


def join_both(live, name="钱八", wecom_dept=111, tag="班组长", mobile="13900000066"):
    live.twin.directory.join("qianba", name, [wecom_dept], mobile, tags=[tag])
    live.dingtalk.directory.join("dt-qianba", name, [200 + 11], f"+86 {mobile[:3]}-{mobile[3:]}", tags=[tag])


def test_the_demo_people_are_matched_and_kept_as_configured(plant):
    zhang = person(plant, "张伟")
    assert zhang.active and ids(zhang) == {"wecom": "zhangwei", "dingtalk": "dt-zhangwei"}
    assert zhang.roles == "lead" and [w.code for w in zhang.workshops] == ["stamping"]
    assert zhang.directory_key == "mobile:13800000001"


def test_a_join_is_one_person_on_both_platforms_and_a_second_run_changes_nothing(plant):
    join_both(plant)
    changes = run_sync(plant.relay)
    assert changes.joined == ["钱八"] and not changes.left and not changes.warnings
    zhao = person(plant, "钱八")
    assert ids(zhao) == {"wecom": "qianba", "dingtalk": "dt-qianba"}   # +86 and dashes folded
    assert zhao.active and zhao.roles == "lead" and [w.code for w in zhao.workshops] == ["stamping"]
    before = snapshot(plant.relay)
    again = run_sync(plant.relay)
    assert not again and again.summary() == "joined 0, changed 0, left 0"
    assert snapshot(plant.relay) == before


def test_a_department_move_and_a_role_change(plant):
    join_both(plant)
    run_sync(plant.relay)
    for twin, prefix, dept in ((plant.twin, "", 12), (plant.dingtalk, "dt-", 212)):
        twin.directory.move(f"{prefix}qianba", [dept])
        twin.directory.tag(f"{prefix}qianba", "班组长", remove=True)
        twin.directory.tag(f"{prefix}qianba", "车间主任")
    changes = run_sync(plant.relay)
    assert changes.changed == ["钱八: roles, workshops"]
    zhao = person(plant, "钱八")
    assert zhao.roles == "head" and [w.code for w in zhao.workshops] == ["welding"]
    with plant.relay.Session() as s:
        event = s.scalars(select(Event).where(Event.kind == "person_changed")).one()
        assert event.data["changes"]["workshops"] == [["stamping"], ["welding"]]


def test_a_leaver_is_deactivated_history_kept_and_no_longer_heard(plant):
    join_both(plant)
    run_sync(plant.relay)
    plant.add_order("SO-1001", quantity=200)
    assert "SO-1001" in plant.say("qianba", "进度 SO-1001")
    plant.twin.directory.leave("qianba")
    changes = run_sync(plant.relay)
    assert changes.changed == ["钱八: left wecom"] and not changes.left   # still on DingTalk
    assert ids(person(plant, "钱八")) == {"dingtalk": "dt-qianba"}
    plant.dingtalk.directory.leave("dt-qianba")
    changes = run_sync(plant.relay)
    assert changes.left == ["钱八"]
    zhao = person(plant, "钱八")
    assert not zhao.active and ids(zhao) == {"dingtalk": "dt-qianba"}   # the row and its id stay
    assert "还没有登记" in plant.say("dt-qianba".removeprefix("dt-"), "进度 SO-1001", platform="dingtalk")
    with plant.relay.Session() as s:
        assert s.scalars(select(Event.kind).where(Event.kind == "person_left")).all() == ["person_left"]


def test_an_id_on_only_one_platform(plant):
    plant.dingtalk.directory.join("dt-zhoujiu", "周九", [213], "13900000077", tags=["班组长"])
    changes = run_sync(plant.relay)
    assert changes.joined == ["周九"]
    sun = person(plant, "周九")
    assert ids(sun) == {"dingtalk": "dt-zhoujiu"} and [w.code for w in sun.workshops] == ["painting"]
    assert not run_sync(plant.relay)


def test_someone_outside_the_mapped_departments_without_a_role_is_not_added(plant):
    plant.twin.directory.department(30, "财务部")
    plant.twin.directory.join("kuaiji", "会计", [30], "13900000088")
    assert not run_sync(plant.relay) and person(plant, "会计") is None


def test_many_leaving_at_once_marks_nobody_as_left(plant):
    for _name, uid, _dept, _mobile in DEMO[:5]:
        plant.twin.directory.leave(uid)
    before = snapshot(plant.relay)
    changes = run_sync(plant.relay)
    assert not changes and "5 people would leave at once" in changes.warnings[0]
    assert snapshot(plant.relay) == before


def test_configured_people_keep_their_roles_and_workshops(plant):
    plant.twin.directory.move("zhangwei", [14])
    plant.twin.directory.tag("zhangwei", "厂长")
    assert not run_sync(plant.relay)
    assert person(plant, "张伟").roles == "lead"


def test_dry_run_changes_nothing(plant):
    join_both(plant)
    before = snapshot(plant.relay)
    assert run_sync(plant.relay, dry_run=True).joined == ["钱八"]
    assert snapshot(plant.relay) == before


def test_the_daily_job_runs_the_sync(plant):
    from bot.jobs import run_job
    join_both(plant)
    assert run_job(plant.relay, "directory-sync") == {"joined": 1, "changed": 0, "left": 0, "warnings": 0}
