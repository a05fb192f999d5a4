"""The Alembic history builds exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import make_engine
from storage.migrate import upgrade_to_head
from storage.models import Base


def test_migrations_match_models(database_url):
    upgrade_to_head(database_url)
    upgrade_to_head(database_url)  # idempotent: a second run changes nothing
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert "alembic_version" in inspect(conn).get_table_names()
    engine.dispose()


def test_person_ids_move_into_identities_and_back(database_url):
    """0006 moves people's WeCom and DingTalk ids into person_identities; downgrading restores them."""
    from alembic import command
    from sqlalchemy import text

    from storage.migrate import alembic_config
    cfg = alembic_config(database_url)
    command.upgrade(cfg, "0005")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO people (id, name, roles, wecom_userid, dingtalk_userid) VALUES "
                          "(1, '张伟', 'lead', 'zhangwei', 'dt-zhangwei'), (2, '周总', 'manager', 'zhouzong', NULL), "
                          "(3, '访客', '', NULL, NULL)"))
        conn.execute(text("INSERT INTO workshops (id, code, name, aliases) VALUES (1, 'stamping', '冲压', '')"))
        conn.execute(text("INSERT INTO lead_assignments (person_id, workshop_id) VALUES (1, 1)"))
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT person_id, platform, user_id FROM person_identities "
                                 "ORDER BY person_id, platform")).all()
        assert [tuple(r) for r in rows] == [(1, "dingtalk", "dt-zhangwei"), (1, "wecom", "zhangwei"),
                                            (2, "wecom", "zhouzong")]
        assert "wecom_userid" not in {c["name"] for c in inspect(conn).get_columns("people")}
        assert conn.execute(text("SELECT COUNT(*) FROM lead_assignments")).scalar() == 1  # rebuilding people kept them
    command.downgrade(cfg, "0005")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, wecom_userid, dingtalk_userid FROM people ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "zhangwei", "dt-zhangwei"), (2, "zhouzong", None), (3, None, None)]
        assert "person_identities" not in inspect(conn).get_table_names()
        assert conn.execute(text("SELECT COUNT(*) FROM lead_assignments")).scalar() == 1
    engine.dispose()
