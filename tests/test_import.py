"""`linerelay import`: CSV (UTF-8, BOM, GBK) and Excel, line-numbered row errors, re-import updates."""
import io
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.migrate import init_db
from bot.importer import run_import
from storage.db import make_engine, make_session_factory
from storage.models import Event, Order
from tests.helpers import EXAMPLE_CONFIG

HEADER = "order_no,product,quantity,due_date,customer,priority\n"


@pytest.fixture
def db(settings):
    init_db(settings.app.database_url, settings)
    engine = make_engine(settings.app.database_url)
    yield settings, make_session_factory(engine)
    engine.dispose()


def run(settings, path):
    out, err = io.StringIO(), io.StringIO()
    code = run_import(settings, path, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def orders(Session):
    with Session() as s:
        return {o.order_no: o for o in s.scalars(select(Order))}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding(db, tmp_path, encoding):
    settings, Session = db
    path = tmp_path / "orders.csv"
    path.write_bytes((HEADER + "so-3001,车门总成,120,2026-12-20,一汽,2\nSO-3002,座椅骨架,80,2026/12/22,,\n").encode(encoding))
    code, out, err = run(settings, path)
    assert code == 0, err
    assert "created 2" in out
    found = orders(Session)
    assert found["SO-3001"].quantity == 120 and found["SO-3001"].priority == 2 and found["SO-3001"].customer == "一汽"
    assert len(found["SO-3001"].steps) == 4 and len(found["SO-3002"].steps) == 3
    assert found["SO-3002"].due_date == date(2026, 12, 22) and found["SO-3002"].priority == 3


def test_excel_with_real_date_cells(db, tmp_path):
    from openpyxl import Workbook
    settings, Session = db
    book = Workbook()
    sheet = book.active
    sheet.append(["Order_No", "product", "quantity", "due_date", "customer", "priority"])
    sheet.append(["SO-4001", "车门总成", 300.0, datetime(2026, 12, 24), "吉利", 1])
    sheet.append(["SO-4002", "车门总成", 12.5, datetime(2026, 12, 24), "", None])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    code, out, err = run(settings, path)
    assert code == 1 and "line 3" in err and "12.5" in err
    assert orders(Session)["SO-4001"].due_date == date(2026, 12, 24)
    assert "SO-4002" not in orders(Session)


def test_reimport_updates_and_unchanged_writes_nothing(db, tmp_path):
    settings, Session = db
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "SO-5001,车门总成,100,2026-12-20,,3\n", encoding="utf-8")
    run(settings, path)
    code, out, _ = run(settings, path)
    assert "unchanged 1" in out
    path.write_text(HEADER + "SO-5001,车门总成,150,2026-12-28,,3\n", encoding="utf-8")
    code, out, _ = run(settings, path)
    assert code == 0 and "updated 1" in out
    order = orders(Session)["SO-5001"]
    assert order.quantity == 150 and all(s.planned_qty == 150 for s in order.steps)
    with Session() as s:
        kinds = [e.kind for e in s.scalars(select(Event).where(Event.order_id == order.id).order_by(Event.id))]
    assert kinds == ["order_created", "order_updated"]


def test_bad_rows_are_reported_by_line_and_import_nothing(db, tmp_path):
    settings, Session = db
    rows = ["SO-6001,车门总成,10,2026-12-20,,",      # line 2: good
            "SO-6002,车门总成,abc,2026-12-20,,",     # 3
            "SO-6003,车门总成,0,2026-12-20,,",       # 4
            "SO-6004,车门总成,-5,2026-12-20,,",      # 5
            "SO-6005,车门总成,1.5,2026-12-20,,",     # 6
            "SO-6006,车门总成,10,2026-13-40,,",      # 7
            "SO-6007,火箭,10,2026-12-20,,",          # 8
            ",车门总成,10,2026-12-20,,",             # 9
            "SO-6008,车门总成,10,2026-12-20,,0",     # 10
            "SO-6009,座椅骨架,5,2026-12-21,,"]       # 11: good
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = run(settings, path)
    assert code == 1 and "created 2" in out and "rejected 8" in out
    for line in range(3, 11):
        assert f"line {line}:" in err
    assert "火箭" in err
    assert set(orders(Session)) == {"SO-6001", "SO-6009"}


def test_missing_column_rejects_the_file(db, tmp_path):
    settings, Session = db
    path = tmp_path / "orders.csv"
    path.write_text("order_no,product,due_date\nSO-7001,车门总成,2026-12-20\n", encoding="utf-8")
    code, _, err = run(settings, path)
    assert code == 2 and "quantity" in err
    assert orders(Session) == {}


def test_console_script(tmp_path, database_url):
    settings_env = {**os.environ, "LINERELAY__APP__DATABASE_URL": database_url}
    linerelay = str(Path(sys.executable).parent / "linerelay")
    assert subprocess.run([linerelay, "--config", str(EXAMPLE_CONFIG), "init-db"], env=settings_env,
                          capture_output=True, timeout=120).returncode == 0
    path = tmp_path / "orders.csv"
    path.write_bytes((HEADER + "SO-8001,车门总成,10,2026-12-20,,\nSO-8002,车门总成,x,2026-12-20,,\n").encode("gbk"))
    result = subprocess.run([linerelay, "--config", str(EXAMPLE_CONFIG), "import", str(path)], env=settings_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "line 3" in result.stderr and "created 1" in result.stdout
    engine = make_engine(database_url)
    with make_session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 1
    engine.dispose()
