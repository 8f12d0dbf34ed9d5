"""The schema's migration history, on SQLite and (SWITCHBOARD_TEST_DATABASE_URL) PostgreSQL:
a previous release's database keeps every row, the history builds exactly the models'
schema, and concurrent starts take turns."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from store.db import MIGRATIONS, alembic_config, migrate
from store.tables import ConversationRow, TagRow
from tests.store import previous_release_schema as previous

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()
NEW_CONVERSATION_COLUMNS = ("message_content", "customer_identifier", "customer_type")
REPOSITORY = Path(__file__).resolve().parents[2]
AT = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
QUEUE, OLD_QUEUE, VIP_QUEUE = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
AGENT, SUPERVISOR, BOT = (f"00000000-0000-4000-8000-0000000000a{n}" for n in (1, 2, 3))
ALICE, BOB = "00000000-0000-4000-8000-0000000000b1", "00000000-0000-4000-8000-0000000000b2"
FIRST, SECOND = "00000000-0000-4000-8000-0000000000c1", "00000000-0000-4000-8000-0000000000c2"


def _queue(id: str, name: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": id, "name": name, "external_id": None, "is_auto_assignment_enabled": False,
        "auto_assignment_algorithm": None, "working_hours_id": None,
        "sticky_agent_timeout_days": None, "is_sticky_auto_assignment_enabled": False,
        "bot_id": None, "bot_timeout_seconds": 600, "created_at": AT, "updated_at": AT,
        "deleted_at": None, **fields,
    }


def _conversation(id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": id, "external_id": None, "topic": None, "summary": None, "status": "OPEN",
        "priority": "NORMAL", "priority_rank": 2, "queue_id": QUEUE, "agent_id": None,
        "channel": None, "from_address": None, "to_address": None, "customer_id": None,
        "authentication": "NONE", "routed_route_id": None, "routed_version": None, "tags": [],
        "last_seq": 0, "created_at": AT, "updated_at": AT, "closed_at": None, **fields,
    }


# Rows as the previous release wrote them, in every table, nulls and JSON included.
PREVIOUS_RELEASE_ROWS: dict[Table, list[dict[str, Any]]] = {
    previous.queues: [
        _queue(QUEUE, "Default"),
        _queue(VIP_QUEUE, "VIP", external_id="crm-vip", is_auto_assignment_enabled=True,
               auto_assignment_algorithm="LEAST_ACTIVE", working_hours_id="office-hours",
               sticky_agent_timeout_days=7, is_sticky_auto_assignment_enabled=True, bot_id=BOT,
               bot_timeout_seconds=120),
        # Deleted: the live queue above has its name again, as ux_queues_live_name allows.
        _queue(OLD_QUEUE, "VIP", deleted_at=AT + timedelta(days=1)),
    ],
    previous.bots: [
        {"id": BOT, "display_name": "Strong authentication", "enabled": True,
         "created_at": AT, "updated_at": AT, "deleted_at": None},
    ],
    previous.agents: [
        {"id": AGENT, "display_name": "Ana Agent", "email": "ana@example.com", "role": "AGENT",
         "status": "AVAILABLE", "enabled": True, "created_at": AT, "updated_at": AT},
        {"id": SUPERVISOR, "display_name": "Sam Supervisor", "email": "sam@example.com",
         "role": "SUPERVISOR", "status": "OFFLINE", "enabled": False, "created_at": AT,
         "updated_at": AT + timedelta(hours=2)},
    ],
    previous.agent_queues: [
        {"agent_id": AGENT, "queue_id": QUEUE, "created_at": AT},
        {"agent_id": AGENT, "queue_id": VIP_QUEUE, "created_at": AT},
    ],
    previous.routing_versions: [
        {"number": 1, "author_type": "SYSTEM", "author_id": None, "author_name": None,
         "created_at": AT, "rules": []},
        {"number": 2, "author_type": "SUPERVISOR", "author_id": SUPERVISOR,
         "author_name": "Sam Supervisor", "created_at": AT + timedelta(minutes=5),
         "rules": [{"id": "r1", "name": "VIP customers", "expression":
                    'customer.tags contains "vip" and conversation.channel == "SMS"',
                    "queueId": VIP_QUEUE, "priority": "HIGH"}]},
    ],
    previous.routing_settings: [
        {"id": 1, "default_queue_id": QUEUE, "updated_at": AT},
    ],
    previous.api_keys: [
        {"id": "0123456789abcdef0123456789abcdef", "principal_type": "SUPERVISOR",
         "principal_id": SUPERVISOR, "name": "bootstrap supervisor", "salt": "5a" * 16,
         "secret_hash": "e3" * 32, "enabled": True, "created_at": AT},
        {"id": "fedcba9876543210fedcba9876543210", "principal_type": "BOT",
         "principal_id": BOT, "name": "bot key", "salt": "7c" * 16, "secret_hash": "a1" * 32,
         "enabled": False, "created_at": AT},
    ],
    previous.conversations: [
        _conversation(FIRST, external_id="ticket-42", topic="Card blocked",
                      summary="Customer cannot pay abroad", status="ASSIGNED",
                      priority="URGENT", priority_rank=4, queue_id=VIP_QUEUE, agent_id=AGENT,
                      channel="SMS", from_address="+385911234567", to_address="+385800100",
                      customer_id=ALICE, authentication="STRONG", routed_route_id="r1",
                      routed_version=2, tags=["vip", "cards"], last_seq=3),
        _conversation(SECOND, status="CLOSED", closed_at=AT + timedelta(hours=1), last_seq=1),
    ],
    previous.conversation_tags: [
        {"conversation_id": FIRST, "tag_name": "cards"},
        {"conversation_id": FIRST, "tag_name": "vip"},
    ],
    previous.conversation_events: [
        {"conversation_id": FIRST, "seq": 1, "type": "CREATED", "at": AT,
         "body": {"actor": {"type": "SYSTEM"}, "channel": "SMS"}},
        {"conversation_id": FIRST, "seq": 2, "type": "ROUTED", "at": AT + timedelta(seconds=1),
         "body": {"queueId": VIP_QUEUE, "version": 2, "trace": [{"ruleId": "r1", "matched": True}],
                  "facts": {"message.channel": "SMS", "message.content": "my card is blocked"}}},
        {"conversation_id": FIRST, "seq": 3, "type": "ASSIGNED", "at": AT + timedelta(minutes=1),
         "body": {"agentId": AGENT}},
        {"conversation_id": SECOND, "seq": 1, "type": "CLOSED", "at": AT + timedelta(hours=1),
         "body": {}},
    ],
    previous.persons: [
        {"id": ALICE, "external_id": "crm-1", "type": "CUSTOMER", "first_name": "Alice",
         "last_name": "Horvat", "country": "HR", "city": "Zagreb", "preferred_language": "hr",
         "tags": ["vip"], "custom_attributes": {"segment": "gold", "score": 97.5},
         "created_at": AT, "modified_at": AT + timedelta(days=3)},
        {"id": BOB, "external_id": None, "type": "LEAD", "first_name": None, "last_name": None,
         "country": None, "city": None, "preferred_language": None, "tags": [],
         "custom_attributes": {}, "created_at": AT, "modified_at": AT},
    ],
    previous.person_contacts: [
        {"kind": "PHONE", "normalized": "+385911234567", "person_id": ALICE,
         "value": "091 123 4567", "position": 0},
        {"kind": "EMAIL", "normalized": "alice@example.com", "person_id": ALICE,
         "value": "Alice@Example.com", "position": 1},
    ],
}


def rows_of_previous_release(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every column of every row, read through the previous release's own tables."""
    with engine.connect() as connection:
        return {
            table.name: [
                dict(row._mapping)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in previous.metadata.sorted_tables
        }


def revision_of(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]


def differences_from_models(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)


def reflected_schema(engine: Engine) -> dict[str, Any]:
    """What the database says of each table, including what compare_metadata does not look at
    (a SERIAL's default, an index's WHERE), independent of column order."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: {
                "columns": {
                    column["name"]: (repr(column["type"]), column["nullable"], column.get("default"))
                    for column in inspector.get_columns(table)
                },
                "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (index["name"], index["column_names"], index["unique"],
                     {option: str(value) for option, value in
                      index.get("dialect_options", {}).items()})
                    for index in inspector.get_indexes(table)
                ),
                "unique": sorted(
                    (str(unique["name"]), unique["column_names"])
                    for unique in inspector.get_unique_constraints(table)
                ),
            }
            for table in inspector.get_table_names()
            if table != "alembic_version"
        }


def test_a_previous_release_database_keeps_every_row_and_gains_the_new_columns(engine: Engine) -> None:
    previous.metadata.create_all(engine)
    with engine.begin() as connection:
        for table, rows in PREVIOUS_RELEASE_ROWS.items():
            connection.execute(table.insert(), rows)
    before = rows_of_previous_release(engine)
    assert all(before.values())

    assert migrate(engine) == HEAD

    assert rows_of_previous_release(engine) == before
    assert revision_of(engine) == [HEAD]
    assert differences_from_models(engine) == []
    with engine.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("conversations")}
        assert set(NEW_CONVERSATION_COLUMNS) <= columns
        new_values = connection.execute(
            text(f"SELECT {', '.join(NEW_CONVERSATION_COLUMNS)} FROM conversations")
        ).all()
        # Only the first message's content is recovered, from the facts routing recorded.
        assert {tuple(row) for row in new_values} == {("my card is blocked", None, None), (None, None, None)}
    with Session(engine) as session:
        first = session.get(ConversationRow, FIRST)
        assert first is not None and first.tags == ["vip", "cards"]
        assert (first.message_content, first.customer_identifier) == ("my card is blocked", None)


def test_revision_0001_is_the_schema_the_previous_release_made(engine: Engine) -> None:
    previous.metadata.create_all(engine)
    made_by_previous_release = reflected_schema(engine)
    previous.metadata.drop_all(engine)

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001_initial")

    assert reflected_schema(engine) == made_by_previous_release


def test_the_history_builds_exactly_the_schema_of_the_models(engine: Engine) -> None:
    assert migrate(engine) == HEAD
    # Empty: no table, column, type, nullability, index or unique constraint differs.
    assert differences_from_models(engine) == []

    # compare_metadata overlooks a few things (a SERIAL, an index's WHERE): the reflected
    # schema must also equal what create_all makes of the models in the same database.
    migrated = reflected_schema(engine)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    SQLModel.metadata.create_all(engine)
    assert reflected_schema(engine) == migrated


def test_queue_names_are_unique_among_live_queues_only(engine: Engine) -> None:
    migrate(engine)
    queues = Table("queues", MetaData(), autoload_with=engine)
    deleted = {"name": "Sales", "deleted_at": AT, "created_at": AT, "updated_at": AT}
    live = {"name": "Sales", "deleted_at": None, "created_at": AT, "updated_at": AT}
    defaults = {"is_auto_assignment_enabled": False, "is_sticky_auto_assignment_enabled": False,
                "bot_timeout_seconds": 600}
    with engine.begin() as connection:
        connection.execute(queues.insert(), [{"id": "q1", **defaults, **deleted},
                                             {"id": "q2", **defaults, **live}])
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(queues.insert(), {"id": "q3", **defaults, **live})


def test_migrate_twice_is_fine(engine: Engine) -> None:
    assert migrate(engine) == HEAD
    assert migrate(engine) == HEAD
    assert revision_of(engine) == [HEAD]
    assert differences_from_models(engine) == []


# Each process imports everything, then waits for the other at a file barrier, so both
# migrate the fresh database at the same moment.
CONCURRENT_MIGRATE = """
import sys, time
from pathlib import Path
from store.db import make_engine, migrate

url, barrier, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
(barrier / name).touch()
deadline = time.monotonic() + 60
while len(list(barrier.iterdir())) < 2 and time.monotonic() < deadline:
    time.sleep(0.001)
print(migrate(make_engine(url)))
"""


def test_concurrent_migrations_take_turns(database_url: str, engine: Engine, tmp_path: Path) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_MIGRATE, database_url, str(barrier), name],
            cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("first", "second")
    ]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert out.strip() == HEAD

    assert revision_of(engine) == [HEAD]
    assert differences_from_models(engine) == []


def test_switchboard_migrate_upgrades_the_configured_database(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = {**os.environ, "SWITCHBOARD_DATABASE_URL": database_url,
           "SWITCHBOARD_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "migrate"],
        cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"at revision {HEAD}" in result.stdout
    assert revision_of(engine) == [HEAD]


def test_an_upgraded_database_lists_the_tags_its_conversations_carry(engine: Engine) -> None:
    previous.metadata.create_all(engine)
    with engine.begin() as connection:
        for table in (previous.conversations, previous.conversation_tags):
            connection.execute(table.insert(), PREVIOUS_RELEASE_ROWS[table])

    assert migrate(engine) == HEAD

    tags = TagRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(select(tags).order_by(tags.c.name)).all()
    assert [row.name for row in rows] == ["cards", "vip"]
    assert len({row.id for row in rows}) == 2
    assert all(row.created_at is not None and row.updated_at is not None for row in rows)
