"""Platform-neutral command handlers, one module per command, and the list that puts every
command and card button on the application (read top to bottom; nothing registers on import)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from bot.handlers import (approval_card, bind, calendar, correct, export, handoff, handoff_card, help, incident, progress,
                          queue, receive, report, requests, settle, team, undo, warning)

if TYPE_CHECKING:
    from bot.relay import Relay


def add_handlers(relay: Relay) -> None:
    """The commands people type (Simplified name first, then Traditional and English aliases)
    and what each card button does."""
    relay.add_command(report.handle, "报工", "报个工", "报一下", "报一下工", "报下工", "report")
    relay.add_command(undo.handle, "撤销", "撤消", "撤回", "undo")
    relay.add_command(progress.handle, "进度", "查进度", "进展", "查询", "到哪了", "到哪", "到哪里了", "做到哪了", "做到哪",
                      "做到哪里了", "怎么样了", "progress", "status",
                      reads_only=True)
    relay.add_command(queue.handle, "待办", "queue", "todo", reads_only=True)
    relay.add_command(handoff.handle, "交接", "移交", "交出", "交给", "handoff", "handover")
    relay.add_command(receive.handle, "接收", "确认接收", "实收", "收货", "receive")
    relay.add_command(receive.received, "收到", "只收到", "实际收到")   # a handoff received, or a warning acknowledged
    relay.add_command(incident.open_, "异常", "报异常", "上报异常", "报个异常", "停线", "故障", "issue", "problem")
    relay.add_command(incident.resume, "恢复", "恢复生产", "修好", "修好了", "已修好", "修复", "修复了", "已修复", "已恢复",
                      "恢复了", "可以生产了", "已排除", "排除了", "resume")
    relay.add_command(requests.rush, "插单", "rush")
    relay.add_command(requests.change, "变更", "change")
    relay.add_command(requests.change_due, "改交期", "延期", "推迟")
    relay.add_command(requests.change_quantity, "改数量")
    relay.add_command(requests.approve, "同意", "批准", "approve")
    relay.add_command(requests.reject, "驳回", "拒绝", "不同意", "不批准", "reject")
    relay.add_command(warning.ack_command, "知悉", "已知悉", "知道了", "ack")
    relay.add_command(settle.handle, "了结", "了結", "settle")
    relay.add_command(correct.handle, "更正", "correct")
    relay.add_command(team.handle, "班组", "班組", "team", "crew")
    relay.add_command(team.clear, "清空班组", "解散班组", "清除班组")
    relay.add_command(export.handle, "导出", "導出", "export", reads_only=True)
    relay.add_command(bind.handle, "绑定", "bind")
    relay.add_command(calendar.shutdown, "停产", "停工", "shutdown")
    relay.add_command(calendar.overtime, "加班", "上班", "overtime")
    relay.add_command(calendar.hours, "工作时间", "hours")
    relay.add_command(calendar.clear, "取消停产", "取消加班", "恢复日历")
    relay.add_command(calendar.confirm, "确认节假日", "confirm-holidays")
    relay.add_command(calendar.show, "日历", "calendar", reads_only=True)
    relay.add_command(help.handle, "帮助", "help", "?", needs_person=False, reads_only=True)

    relay.add_card_action("handoff", "confirm", handoff_card.confirm)
    relay.add_card_action("handoff", "dispute", handoff_card.dispute)
    relay.add_card_action("approval", "approve", approval_card.approve)
    relay.add_card_action("approval", "reject", approval_card.reject)
    relay.add_card_action("warning", "ack", warning.ack_button)
    relay.add_card_action("dispute", "settle", settle.settle_button)
