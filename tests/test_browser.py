"""A real browser (Playwright driving Debian's Chromium) through the sandbox: a lead reports in
a WeCom group, the downstream lead presses 确认接收 on the handoff card, the board changes.

Screenshots of the chat page and the board land in the test output folder
(`$LINERELAY_TEST_OUTPUT`, default `test-output/` in the repository).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.sandbox import start_sandbox
from storage.models import Handoff, Order, Step, Workshop

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path(os.environ.get("LINERELAY_TEST_OUTPUT", ROOT / "test-output"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser():
    if CHROMIUM is None:
        if os.environ.get("LINERELAY_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here (apt-get install chromium)")
        pytest.skip("no Chromium on this machine (apt-get install chromium); CI installs it and runs this test")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def sandbox(tmp_path):
    box = start_sandbox(port=0, database=str(tmp_path / "sandbox.db"))
    box.start_jobs()
    yield box
    box.stop()


def welding_step(sandbox, order_no: str) -> Step:
    with sandbox.relay.Session() as s:
        step = s.scalars(select(Step).join(Order).join(Workshop).where(Order.order_no == order_no,
                                                                       Workshop.code == "welding")).one()
        s.expunge(step)
        return step


def test_report_handoff_and_the_board_in_a_browser(browser, sandbox):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    token = sandbox.relay.settings.api.board_tokens[0]
    chat = browser.new_page(viewport={"width": 1400, "height": 900})
    board = browser.new_page(viewport={"width": 1920, "height": 1080})   # the TV on the shop floor

    # the welding board shows SO-1002 still waiting for stamping
    board.goto(f"{sandbox.url}/board?token={token}&workshop=welding&refresh=2")
    assert board.locator('tr[data-order="SO-1002"]').count() == 0

    # 张伟 reports in the WeCom stamping group and sees the bot's reply
    chat.goto(f"{sandbox.url}/sandbox")
    assert chat.locator("#conv-name").inner_text() == "冲压车间群"
    chat.fill("#text", "报工 SO-1002 150")
    chat.press("#text", "Enter")
    reply = chat.locator(".msg.bot", has_text="已报工 SO-1002")
    reply.wait_for(timeout=10_000)
    assert "300/300" in reply.inner_text() and "交接给 焊接" in reply.inner_text()
    chat.screenshot(path=str(OUTPUT / "sandbox-chat-report.png"))

    # the welding cell now says material is waiting to be received
    cell = board.locator('tr[data-order="SO-1002"] td[data-workshop="welding"]')
    cell.wait_for(timeout=10_000)
    assert "待接收 300" in cell.inner_text()

    # 李娜 (welding lead) opens her chat with the app and presses 确认接收 on the handoff card
    chat.select_option("#person", label="李娜（焊接 · 班组长）")
    chat.locator("#convs li", has_text="与产线接力私聊").click()
    card = chat.locator(".card", has_text="SO-1002").filter(has_text="交接确认")
    card.wait_for(timeout=10_000)
    card.get_by_role("button", name="确认接收").click()
    # the platform replaces the buttons with the outcome once the click is applied
    card.locator(".outcome").wait_for(timeout=10_000)
    assert "接收" in card.locator(".outcome").inner_text()
    chat.screenshot(path=str(OUTPUT / "sandbox-chat-handoff-card.png"))

    step = welding_step(sandbox, "SO-1002")
    assert step.received_qty == 300 and step.status == "ready"
    with sandbox.relay.Session() as s:
        assert s.scalars(select(Handoff).where(Handoff.to_step_id == step.id)).one().status == "confirmed"

    # the board refreshes by itself: the cell turns from 待接收 to 可开工
    board.wait_for_function(
        """() => { const c = document.querySelector('tr[data-order="SO-1002"] td[data-workshop="welding"]');
                   return c && c.textContent.includes("可开工") && !c.textContent.includes("待接收"); }""",
        timeout=15_000)
    board.locator('tr[data-order="SO-1002"]').wait_for(state="visible", timeout=15_000)  # pages turn on a TV
    board.screenshot(path=str(OUTPUT / "board-welding.png"))
    board.goto(f"{sandbox.url}/board?token={token}")
    board.locator("#board").wait_for()
    board.screenshot(path=str(OUTPUT / "board.png"))
    for name in ("sandbox-chat-report.png", "sandbox-chat-handoff-card.png", "board-welding.png", "board.png"):
        assert (OUTPUT / name).stat().st_size > 10_000


def test_a_dingtalk_group_card_in_a_browser(browser, sandbox):
    """On DingTalk the approval card sits in the managers' group; 周总 approves it there."""
    chat = browser.new_page(viewport={"width": 1400, "height": 900})
    chat.goto(f"{sandbox.url}/sandbox")
    chat.locator(".platforms button", has_text="钉钉").click()
    chat.select_option("#person", label="周总（经理）")
    chat.locator("#convs li", has_text="管理层钉钉群").click()
    card = chat.locator(".card", has_text="插单审批")
    card.wait_for(timeout=10_000)
    card.get_by_role("button", name="同意").click()
    card.locator(".outcome").wait_for(timeout=10_000)
    with sandbox.relay.Session() as s:
        assert s.scalars(select(Order).where(Order.order_no == "SO-2001")).one().quantity == 300
    # the clock control moves the sandbox to the next morning: the plant digest arrives in the group
    chat.locator(".platforms button", has_text="企业微信").click()
    chat.locator("#convs li", has_text="管理层群").click()
    chat.get_by_role("button", name="到明早 8:00").click()
    chat.locator(".msg.bot", has_text="全厂日报").wait_for(timeout=10_000)
    assert chat.locator("#clock").inner_text().endswith(("08:00 周一", "08:00 周二", "08:00 周三", "08:00 周四",
                                                         "08:00 周五", "08:00 周六", "08:00 周日"))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    chat.screenshot(path=str(OUTPUT / "sandbox-chat-digest.png"))


def test_hostile_text_is_shown_not_run(browser, sandbox):
    """Whatever a visitor types (and the bot echoes back in its error reply) is text on the page."""
    chat = browser.new_page(viewport={"width": 1400, "height": 900})
    dialogs = []
    chat.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    chat.goto(f"{sandbox.url}/sandbox")
    hostile = '报工 <img src=x onerror=alert(1)> [点我](javascript:alert(2)) **<b>粗</b>**'
    chat.fill("#text", hostile)
    chat.press("#text", "Enter")
    chat.locator(".msg.me", has_text="onerror").wait_for(timeout=10_000)
    chat.locator(".msg.bot").last.wait_for(timeout=10_000)
    chat.wait_for_timeout(500)
    assert dialogs == []
    assert chat.locator("#messages img").count() == 0
    assert chat.locator('#messages a[href^="javascript"]').count() == 0
    assert "<img src=x onerror=alert(1)>" in chat.locator(".msg.me").last.inner_text()


def test_the_board_turns_pages_on_a_tv(browser, sandbox):
    """26 open orders do not fit a 1080p screen: a screenful at a time, the page turning by itself."""
    board = browser.new_page(viewport={"width": 1920, "height": 1080})
    token = sandbox.relay.settings.api.board_tokens[0]
    board.goto(f"{sandbox.url}/board?token={token}&refresh=2")
    footer = board.locator("#page")
    assert footer.inner_text().startswith(" · 第 1/")
    shown = board.evaluate("() => Array.from(document.querySelectorAll('#board tbody tr'))"
                           ".filter(r => r.style.display !== 'none').map(r => r.dataset.order)")
    total = board.locator("#board tbody tr").count()
    assert 5 <= len(shown) < total
    last = board.locator(f'tr[data-order="{shown[-1]}"]').bounding_box()
    assert last["y"] + last["height"] <= 1080   # the whole first page is on the screen
    board.wait_for_function("() => document.getElementById('page').textContent.startsWith(' · 第 2/')", timeout=10_000)
    assert board.locator(f'tr[data-order="{shown[0]}"]').is_hidden()


# -- screens read at a glance (issue 16): the TV, the phone, the order page, the digests -------

TEXT_SIZES = """(roots) => {
  // every visible text on the TV but the secondary lines (.sub): its computed font size in px
  const out = [];
  for (const root of roots.map(r => document.querySelector(r))) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const el = walker.currentNode.parentElement;
      if (!walker.currentNode.textContent.trim() || el.closest(".sub") || !el.getClientRects().length) continue;
      out.push([walker.currentNode.textContent.trim().slice(0, 24), parseFloat(getComputedStyle(el).fontSize)]);
    }
  }
  return out;
}"""


def open_orders(sandbox) -> set[str]:
    with sandbox.relay.Session() as s:
        return set(s.scalars(select(Order.order_no).where(Order.status.notin_(("done", "cancelled")))))


def test_the_board_on_a_tv(browser, sandbox):
    """1920×1080: a summary per workshop above the grid; every text but the secondary lines ≥ 24 px;
    exceptions with reason and duration; what a step received where it differs from the plan."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    token = sandbox.relay.settings.api.board_tokens[0]
    tv = browser.new_page(viewport={"width": 1920, "height": 1080})
    tv.goto(f"{sandbox.url}/board?token={token}")
    shops = tv.locator("#summary .shop")
    assert shops.count() == 4 and tv.locator("#summary").is_visible()
    assert tv.locator("#summary").bounding_box()["y"] + tv.locator("#summary").bounding_box()["height"] \
        <= tv.locator("#board").bounding_box()["y"]
    assert "在制" in shops.first.inner_text() and tv.locator("#list").is_hidden()
    sizes = tv.evaluate(TEXT_SIZES, ["header", "#summary", "#board"])
    assert len(sizes) > 50 and [s for s in sizes if s[1] < 24] == []
    stopped = tv.locator('tr[data-order="SO-1024"] td[data-workshop="welding"]')
    if stopped.is_visible():   # (on the first page of the TV)
        assert "焊机送丝故障" in stopped.inner_text() and "异常" in stopped.inner_text()
    html = tv.content()
    assert "焊机送丝故障" in html and "面漆批次未到" in html
    row = html[html.index('<tr data-order="SO-1026"'):]
    disputed = row[row.index('data-workshop="welding"'):row.index("</td>", row.index('data-workshop="welding"'))]
    assert "30/96" in disputed and "计划 100" in disputed          # received 96 of 100
    assert not any(ord(ch) >= 0x1F300 for ch in tv.locator("body").inner_text())   # no emoji to depend on
    tv.screenshot(path=str(OUTPUT / "board-tv.png"))


def test_the_board_and_an_order_on_a_phone(browser, sandbox):
    """390×844: one scrollable list grouped by state, every order reachable, no horizontal scroll,
    no paging by itself; a tap opens the order page, which fits the screen too."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    token = sandbox.relay.settings.api.board_tokens[0]
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                             device_scale_factor=2)
    phone.goto(f"{sandbox.url}/board?token={token}&refresh=300")
    assert phone.locator("#board").is_hidden() and phone.locator("#list").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    states = phone.eval_on_selector_all("#list h2", "hs => hs.map(h => h.dataset.state)")
    assert states[0] == "stopped" and states == [s for s in ("stopped", "late", "at_risk", "running") if s in states]
    items = phone.locator("#list a.item")
    listed = phone.eval_on_selector_all("#list a.item", "as => as.map(a => a.dataset.order)")
    assert set(listed) == open_orders(sandbox) and len(listed) == len(set(listed))
    for i in range(items.count()):   # every order can be scrolled to
        item = items.nth(i)
        item.scroll_into_view_if_needed()
        box = item.bounding_box()
        assert box["y"] >= -1 and box["y"] + box["height"] <= 845 and box["x"] + box["width"] <= 391
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=str(OUTPUT / "board-phone.png"), full_page=True)
    phone.goto(f"{sandbox.url}/board?token={token}&refresh=2")
    with phone.expect_response(lambda r: "/board" in r.url and r.request.headers.get("x-board-refresh") == "1"):
        pass   # the page refreshed itself: it still shows every order, and no page turned
    phone.wait_for_function(f"document.querySelectorAll('#list a.item').length === {len(listed)}")
    assert phone.locator("#page").inner_text() == ""
    assert phone.eval_on_selector_all("#list a.item", "as => as.filter(a => !a.getClientRects().length).length") == 0
    phone.locator('#list a.item[data-order="SO-1024"]').tap()
    phone.wait_for_url("**/board/orders/SO-1024?**")
    assert phone.locator('meta[name="viewport"]').count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert "焊接" in phone.locator("ol.route").inner_text() and "预计" in phone.inner_text("body")
    phone.screenshot(path=str(OUTPUT / "order-phone.png"), full_page=True)
    tv = browser.new_page(viewport={"width": 1920, "height": 1080})
    tv.goto(f"{sandbox.url}/board/orders/SO-1024?token={token}")
    tv.screenshot(path=str(OUTPUT / "order-tv.png"))


def show(chat, platform: str, person: str, conv: str):
    chat.locator(".platforms button", has_text=platform).click()
    chat.select_option("#person", label=person)
    chat.locator("#convs li", has_text=conv).click()


def test_the_digests_and_a_warning_as_the_sandbox_shows_them(browser, sandbox):
    """The morning after: the managers' digest with its chart on WeCom (the robot's image) and on
    DingTalk (a markdown picture LineRelay serves), a workshop's digest, a warning with its @."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    chat = browser.new_page(viewport={"width": 1400, "height": 1000})
    chat.goto(f"{sandbox.url}/sandbox")
    show(chat, "企业微信", "张伟（冲压 · 班组长）", "冲压车间群")
    warning = chat.locator(".msg.bot", has_text="有延期风险").or_(chat.locator(".msg.bot", has_text="已延期")).first
    warning.wait_for(timeout=10_000)
    said = redrawn(lambda: look(warning, "warning-wecom.png"))
    assert "@张伟" in said and "升级给" in said
    chat.get_by_role("button", name="到明早 8:00").click()
    digest = chat.locator(".msg.bot", has_text="冲压 日报")
    digest.wait_for(timeout=30_000)
    said = redrawn(lambda: look(digest, "digest-workshop-wecom.png"))
    # it tells of the last working day: 昨日, or its date after a weekend (the button goes to Monday)
    assert "产出/计划" in said and "良率" in said
    show(chat, "企业微信", "周总（经理）", "管理层群")
    text = managers_digest(chat, "wecom", timeout=30_000)
    assert "停线 2" in text and "SO-1024" in text and "SO-1025" in text and "瓶颈" in text
    assert "75%（3/4）" in text     # SO-0991 was finished after its due date, the other three on time
    show(chat, "钉钉", "周总（经理）", "管理层钉钉群")
    # DingTalk's 20-a-minute robot limit (one robot for every group) counts real time: after the
    # night's warnings and the morning's digests, its copies follow minutes later
    assert "停线 2" in managers_digest(chat, "dingtalk", timeout=240_000)


def managers_digest(chat, platform: str, timeout: int) -> str:
    """The managers' digest and its chart in the open conversation: screenshots of both; its text."""
    # the digest's text (on DingTalk the chart is a markdown picture whose title names the digest too)
    managers = chat.locator(".msg.bot", has_text="全厂日报", has_not=chat.locator("img.pic")).last
    managers.wait_for(timeout=timeout)
    picture = chat.locator(".msg.bot img.pic").last
    picture.wait_for(timeout=timeout)
    chat.wait_for_function("(img) => img.complete && img.naturalWidth > 600", arg=picture.element_handle())
    said = redrawn(lambda: look(managers, f"digest-managers-{platform}.png"))
    redrawn(lambda: look(chat.locator(".msg.bot", has=chat.locator("img.pic")).last, f"digest-chart-{platform}.png"))
    return said


def look(message, name: str) -> str:
    """A message scrolled to, photographed into test-output/, and its text."""
    message.scroll_into_view_if_needed()
    message.screenshot(path=str(OUTPUT / name))
    return message.inner_text()


def redrawn(action, tries: int = 5):
    """`action`, again if the page redrew the message list under it (its poll replaces the
    nodes; on a loaded machine that can fall between finding a message and using it)."""
    from playwright.sync_api import Error
    for attempt in range(tries):
        try:
            return action()
        except Error as exc:
            if "not attached" not in str(exc) or attempt == tries - 1:
                raise
