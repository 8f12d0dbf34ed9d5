"""Log lines are JSON objects that name the conversation and carry nothing else."""

from __future__ import annotations

import json
import logging

from store.db import make_engine
from switchboard.logs import JsonFormatter, configure_logging


def record(**extra) -> logging.LogRecord:
    line = logging.LogRecord("switchboard", logging.INFO, __file__, 1, "routed %s", ("x",), None)
    line.__dict__.update(extra)
    return line


def test_a_line_is_one_json_object_with_its_fields():
    line = json.loads(JsonFormatter().format(record(conversation_id="c1", duration_ms=1.5)))
    assert line["message"] == "routed x" and line["level"] == "INFO"
    assert (line["conversationId"], line["durationMs"]) == ("c1", 1.5)
    assert line["time"].endswith("+00:00")


def test_temporal_sdk_lines_name_the_conversation_of_their_workflow():
    workflow_line = record(temporal_workflow={"workflow_id": "conversation-abc", "run_id": "r"})
    activity_line = record(temporal_activity={"workflow_id": "conversation-def"})
    other = record(temporal_workflow={"workflow_id": "bench-bare-1"})
    assert json.loads(JsonFormatter().format(workflow_line))["conversationId"] == "abc"
    assert json.loads(JsonFormatter().format(activity_line))["conversationId"] == "def"
    assert "conversationId" not in json.loads(JsonFormatter().format(other))


def test_nothing_but_the_known_fields_is_written():
    line = json.loads(JsonFormatter().format(record(headers={"authorization": "App secret"})))
    assert "secret" not in json.dumps(line)


def test_database_errors_never_show_their_parameters(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        try:
            connection.exec_driver_sql("SELECT * FROM nowhere WHERE phone = ?", ("+385915550101",))
        except Exception as error:  # noqa: BLE001 - the message is what is tested
            assert "+385915550101" not in str(error)
        else:
            raise AssertionError("the query should have failed")


def test_httpx_does_not_log_each_request():
    """A courier's requests go to receivers' URLs, whose query strings may carry tokens: httpx's
    INFO line per request is not written (the attempt is recorded in SQL instead)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging()
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)
        assert logging.getLogger("switchboard.courier").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:], root.level = handlers, level
        logging.getLogger("httpx").setLevel(logging.NOTSET)
