"""Logs as one JSON object a line, for every Switchboard process."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from domain.conversation import workflow_id

# Attributes a log call may add with `extra=`; only these are written, so nothing else a
# library attaches to a record (a request, its headers) can reach the log.
EXTRA_FIELDS = {"conversation_id": "conversationId", "duration_ms": "durationMs"}
CONVERSATION_PREFIX = workflow_id("")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for attribute, key in EXTRA_FIELDS.items():
            value = getattr(record, attribute, None)
            if value is not None:
                line[key] = value
        if "conversationId" not in line and (conversation_id := _temporal_conversation(record)):
            line["conversationId"] = conversation_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _temporal_conversation(record: logging.LogRecord) -> str | None:
    """The Temporal SDK's workflow and activity loggers attach the workflow's id."""
    for attribute in ("temporal_workflow", "temporal_activity"):
        details = getattr(record, attribute, None)
        workflow_id = details.get("workflow_id") if isinstance(details, dict) else None
        if workflow_id and workflow_id.startswith(CONVERSATION_PREFIX):
            return workflow_id[len(CONVERSATION_PREFIX):]
    return None


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request at INFO: a line per webhook sent, with the receiver's URL and
    # its query string, which may carry the receiver's token (the API's access lines never
    # log one). The courier records each attempt in SQL instead.
    logging.getLogger("httpx").setLevel(logging.WARNING)
