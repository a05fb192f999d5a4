"""异常 SO-1001 设备 冲床液压故障 预计 4小时 · 恢复 SO-1001 — also `停线 SO-1001 焊机坏了 预计下午3点`
(the category inferred), `故障SO-1001 …`, `恢复SO-1001`."""
from __future__ import annotations

import re
from datetime import UTC

from bot.handlers.base import Context
from bot.handlers.common import require_person
from bot.neutral import Reply
from bot.errors import BadSyntax
from bot.handlers.reading import RECOVERY_WORDS, key_of, step_word, take_order
from bot.text import Word, join_words
from bot.timewords import NUM, WorkingTime, parse_recovery
from storage import planner
from storage.incidents import CATEGORIES, close_incident, open_incident
from storage.models import Order

# The category, when not said, from the words of the description (first match wins).
INFERRED = (("人员", ("缺人", "人手", "请假", "人员", "没人", "工人", "受伤", "工伤", "操作工", "员工", "生病")),
            ("物料", ("缺料", "来料", "物料", "材料", "钢板", "板材", "料", "没到", "到货", "供应")),
            ("设备", ("设备", "模具", "机", "床", "泵", "液压", "气压", "停电", "断电", "漏气", "故障", "坏", "漏油", "卡")),
            ("质量", ("质量", "品质", "不良", "毛刺", "尺寸", "裂", "划伤", "变形", "返工", "超差")))


def infer_category(description: str) -> str:
    """设备/机/模具 → 设备, 料/缺料 → 物料, … else 其他."""
    return next((category for category, words in INFERRED if any(w in description for w in words)), "其他")


_WHEN = (r"(?:(?:今天|明天|后天|今晚|明早)?\s*(?:上午|中午|下午|晚上|早上|傍晚)?\s*"
         rf"(?:\d{{1,2}}|[零一二两三四五六七八九十]{{1,3}})\s*(?:点|:)\s*(?:半|\d{{1,2}}分?)?|{NUM}\s*个?(?:半)?(?:小时|分钟|钟头)|(?:今天|明天|后天)(?:上午|中午|下午|晚上|早上)?)")
# a time that ends the description and says it is when (`3点前`, `2小时内`, `下午3点能修好`); a bare
# time (`冲床 3点坏的`) is not one
_TRAILING_WHEN = re.compile(rf"\s*(?:(?:修好|恢复|修复|搞定|解决)(?:要|需要|得))?({_WHEN}\s*(?:前|之前|以前|以内|内|后|之后)?)"
                            r"\s*(?:就|才)?(?:能|可以)?\s*(?:修好|恢复|好|到|搞定|到货|解决)?了?(?:左右)?$")
_SAYS_WHEN = re.compile(r"(?:前|之前|以前|以内|内|后|之后|修好|恢复|好|到|搞定|到货|解决)了?(?:左右)?$"
                        r"|^\s*(?:修好|恢复|修复|搞定|解决)(?:要|需要|得)")   # `修好要两个小时`


def _trailing_recovery(ctx: Context, description: str) -> tuple[str, str]:
    """(description, recovery text): the time that ends the description when it reads as one."""
    match = _TRAILING_WHEN.search(description)
    if match is None or not description[:match.start()].strip() or not _SAYS_WHEN.search(match.group()):
        return description, ""
    try:
        parse_recovery(match.group(1), ctx.clock.local(ctx.now))
    except BadSyntax:
        return description, ""
    return description[:match.start()].strip(), match.group(1)


def parse_incident(ctx: Context, args: list[Word]) -> tuple[Order, str | None, str, str, str]:
    """(order, step name or None, category, description, recovery text) from the words after
    异常/停线/故障; the category may be left out, the expected recovery follows 预计."""
    order, rest = take_order(ctx, list(args), digits_may_be_quantity=False)
    if order is None:
        raise BadSyntax(command="异常", problem="incident")
    step_name = None
    if rest and ctx.is_step_name(order, rest[0]):
        step_name, rest = str(rest[0]), rest[1:]
    recovery = ""
    for i, word in enumerate(rest):
        if key_of(word) in RECOVERY_WORDS:
            rest, recovery = rest[:i], join_words(rest[i + 1:])
            break
    said = bool(rest) and rest[0] in CATEGORIES
    category = str(rest[0]) if said else ""
    description = join_words(rest[1:] if said else rest)
    if not recovery:   # `冲床坏了 下午3点能修好`: a time at the end, without 预计, is when it should run again
        description, recovery = _trailing_recovery(ctx, description)
    if not description and not said:
        raise BadSyntax(command="异常", problem="incident")
    category = category or infer_category(description)
    return order, step_name, category, description[:200], recovery


def open_(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    order, step_name, category, description, recovery_text = parse_incident(ctx, [Word(a) if not isinstance(a, Word)
                                                                                else a for a in args])
    step = ctx.step_for(order, step_name)
    local_now = ctx.clock.local(ctx.now)
    recovery_local = parse_recovery(recovery_text, local_now, working=WorkingTime(planner.calendar(ctx.session),
                                                                                step.workshop_id))
    recovery = recovery_local.astimezone(UTC).replace(tzinfo=None) if recovery_local else None
    when = f" 预计 {recovery_local:%m-%d %H:%M}" if recovery_local else ""
    ctx.read_as(f"{order.order_no} {order.product} {step.workshop.name} {category} {description}{when}",
                f"异常 {order.order_no} {step.workshop.name} {category} {description}{when}")
    incident = open_incident(ctx.session, ctx.now, step_id=step.id, person=person, category=category,
                             description=description, expected_recovery=recovery, source=ctx.message.source)
    ctx.replan()
    context = {"order_no": order.order_no, "product": order.product, "workshop": step.workshop.name,
               "category": category, "description": description, "recovery": recovery, "impact": _impact(ctx, order, step),
               "reporter": person.name}
    key = f"incident:{incident.id}:opened"
    for later in (s for s in order.steps if s.seq > step.seq):
        ctx.notify_workshop(later.workshop_id, "notices/incident_opened", key=f"{key}:{later.workshop_id}", **context)
    ctx.notify_role("managers", "notices/incident_opened", key=f"{key}:managers", **context)
    return Reply("incident_ok", context)


def _impact(ctx: Context, order, step) -> dict:
    """The order's finish as the plan has it with the step stopped until its expected recovery
    (or for `planning.assumed_outage_minutes` when nobody knows)."""
    return {"new_end": order.forecast_end, "late": order.late_minutes > 0, "late_minutes": order.late_minutes,
            "assumed_minutes": ctx.settings.planning.assumed_outage_minutes,
            "downstream": [s.workshop.name for s in order.steps if s.seq > step.seq]}


# said with 恢复 (`恢复 SO-1017 已修好`, `恢复生产`, `SO-1017 修好了`): nothing more than that it runs again
TROUBLE_WORDS = {"故障", "异常", "问题", "停线"}   # what was mended, said with 恢复
DONE_WORDS = ("修好了", "已修好", "修复了", "已修复", "已排除", "排除了", "搞定了", "已恢复", "恢复了", "好了", "正常了",
              "可以生产了", "可以了")
NOT_YET_WORDS = ("马上", "快", "就要", "还没", "没有", "没", "预计", "一会", "等会", "稍后", "待会", "明天", "下午", "晚上",
                 "小时", "分钟", "点")   # `马上修好了`, `还没修好`: not done yet
RESUMED = {"恢复", "恢复生产", "生产", "正常", "了", "已", "已经", "修好", "修好了", "好了", "搞定", "搞定了", "正常了",
           "可以了", "修复", "修复了"}


def resume(ctx: Context, args: list[str]) -> Reply:
    person = require_person(ctx)
    order, rest = take_order(ctx, [w for w in args if w not in RESUMED], digits_may_be_quantity=False)
    step_name, rest = step_word(ctx, rest)
    rest = [w for w in rest if w not in RESUMED and w not in CATEGORIES and w not in TROUBLE_WORDS]   # `设备故障已修好`
    said = "".join(args)
    if any(d in said for d in DONE_WORDS) and not any(f in said for f in NOT_YET_WORDS):
        rest = []   # `冲床修好了`, `故障已排除`: what was mended, said with it being done
    if order is None or rest:
        raise BadSyntax(command="恢复", problem="resume", token=rest[0] if rest else "")
    step = ctx.step_for(order, step_name)
    ctx.read_as(f"{order.order_no} {order.product} {step.workshop.name} 恢复生产", f"恢复 {order.order_no} {step.workshop.name}")
    incident, minutes = close_incident(ctx.session, ctx.now, step_id=step.id, person=person, source=ctx.message.source)
    context = {"order_no": order.order_no, "product": order.product, "workshop": step.workshop.name,
               "category": incident.category,
               "description": incident.description, "minutes": minutes, "person": person.name}
    key = f"incident:{incident.id}:closed"
    for later in (s for s in order.steps if s.seq > step.seq):
        ctx.notify_workshop(later.workshop_id, "notices/incident_closed", key=f"{key}:{later.workshop_id}", **context)
    ctx.notify_role("managers", "notices/incident_closed", key=f"{key}:managers", **context)
    return Reply("resume_ok", context)
