"""Contact-change events applied as they come: WeCom's change_contact to the self-built app and
DingTalk's encrypted event subscription, each signed by its twin; then the person speaks."""
from __future__ import annotations

from sqlalchemy import select

from storage.models import Person
from tests.helpers import snapshot
from tests.test_directory_sync import ids, person, plant  # noqa: F401 (fixture)


def test_wecom_create_then_delete_user(plant):  # noqa: F811
    plant.add_order("SO-1001", quantity=200)
    plant.twin.directory.join("qianqi", "钱七", [11], "13900000099", tags=["班组长"])
    result = plant.twin.contact_event("create_user", "qianqi")
    assert result.status == 200 and result.raw == "success"
    qian = person(plant, "钱七")
    assert qian.active and ids(qian) == {"wecom": "qianqi"} and qian.roles == "lead"
    assert "SO-1001" in plant.say("qianqi", "进度 SO-1001")      # heard at once, reply out through the twin
    plant.twin.directory.leave("qianqi")
    assert plant.twin.contact_event("delete_user", "qianqi").status == 200
    assert not person(plant, "钱七").active
    assert "还没有登记" in plant.say("qianqi", "进度 SO-1001")


def test_wecom_tag_change_changes_the_role(plant):  # noqa: F811
    plant.twin.directory.join("qianqi", "钱七", [11], "13900000099", tags=["班组长"])
    plant.twin.contact_event("create_user", "qianqi")
    plant.twin.directory.tag("qianqi", "班组长", remove=True)
    plant.twin.directory.tag("qianqi", "车间主任")
    plant.twin.contact_event("update_tag", TagId="2", AddUserItems="qianqi")
    assert person(plant, "钱七").roles == "head"


def test_wecom_renamed_user_id_keeps_the_person(plant):  # noqa: F811
    plant.twin.directory.join("qianqi", "钱七", [11], "", tags=["班组长"])
    plant.twin.contact_event("create_user", "qianqi")
    first = person(plant, "钱七").id
    plant.twin.directory.leave("qianqi")
    plant.twin.directory.join("qian7", "钱七", [11], "", tags=["班组长"])
    plant.twin.contact_event("update_user", "qianqi", NewUserID="qian7")
    qian = person(plant, "钱七")
    assert qian.id == first and ids(qian) == {"wecom": "qian7"}


def test_dingtalk_events_join_the_same_person_then_leave(plant):  # noqa: F811
    plant.twin.directory.join("qianqi", "钱七", [11], "13900000099", tags=["班组长"])
    plant.twin.contact_event("create_user", "qianqi")
    plant.dingtalk.directory.join("dt-qianqi", "钱七", [211], "13900000099", tags=["班组长"])
    resp, answer = plant.dingtalk.contact_event("user_add_org", ["dt-qianqi"])
    assert resp.status_code == 200 and answer == "success"
    assert ids(person(plant, "钱七")) == {"wecom": "qianqi", "dingtalk": "dt-qianqi"}   # matched by mobile
    plant.dingtalk.directory.leave("dt-qianqi")
    plant.dingtalk.contact_event("user_leave_org", ["dt-qianqi"])
    qian = person(plant, "钱七")
    assert qian.active and ids(qian) == {"wecom": "qianqi"}     # still on WeCom


def test_dingtalk_check_url_is_answered_with_success(plant):  # noqa: F811
    resp, answer = plant.dingtalk.contact_event("check_url")
    assert resp.status_code == 200 and answer == "success"


def test_dingtalk_event_with_a_bad_signature_changes_nothing(plant):  # noqa: F811
    plant.dingtalk.directory.join("dt-qianqi", "钱七", [211], "13900000099", tags=["班组长"])
    before = snapshot(plant.relay)
    resp, _ = plant.dingtalk.contact_event("user_add_org", ["dt-qianqi"], signature="0" * 40)
    assert resp.status_code == 403 and snapshot(plant.relay) == before
    with plant.relay.Session() as s:
        assert s.scalars(select(Person).where(Person.name == "钱七")).first() is None


def test_an_event_the_directory_cannot_answer_is_acknowledged_and_the_daily_sync_repairs(plant):  # noqa: F811
    plant.twin.directory.join("qianqi", "钱七", [11], "13900000099", tags=["班组长"])
    plant.twin.fail_next(("http", 500))
    before = snapshot(plant.relay)
    result = plant.twin.contact_event("create_user", "qianqi")
    assert result.status == 200 and result.raw == "success" and snapshot(plant.relay) == before
    from bot.directory.sync import run_sync
    assert run_sync(plant.relay).joined == ["钱七"]
