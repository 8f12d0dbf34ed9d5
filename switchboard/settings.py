"""Every setting Switchboard reads, from the environment, in one place.

The README's settings table and docker-compose.yml use exactly these names (a test checks).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from domain.assignment import MAX_AGENT_CAPACITY
from domain.events_out import DEFAULT_RETRY_SCHEDULE, parse_retry_schedule

# Variable -> (what it sets, default). A default of None means "unset unless given".
VARIABLES: dict[str, tuple[str, str | None]] = {
    "SWITCHBOARD_HOME": ("folder for the embedded stack's state (SQLite, Temporal, key)", ".switchboard"),
    "SWITCHBOARD_DATABASE_URL": ("SQLAlchemy URL of the store", "sqlite:///$SWITCHBOARD_HOME/switchboard.db"),
    "SWITCHBOARD_TEMPORAL_ADDRESS": ("Temporal frontend host:port", "127.0.0.1:7233"),
    "SWITCHBOARD_TEMPORAL_NAMESPACE": ("Temporal namespace", "default"),
    "SWITCHBOARD_TASK_QUEUE": ("task queue of the conversation workflows", "switchboard"),
    "SWITCHBOARD_TEMPORAL_UI_URL": ("base address of the Temporal Web UI", "http://127.0.0.1:8233"),
    "SWITCHBOARD_API_HOST": ("address the API listens on", "127.0.0.1"),
    "SWITCHBOARD_API_PORT": ("port the API listens on", "8000"),
    "SWITCHBOARD_SUPERVISOR_KEY": ("a supervisor API key to ensure at start (else one is made once)", None),
    "SWITCHBOARD_WORKER_METRICS_ADDRESS": (
        "host:port where a worker serves the Temporal SDK's Prometheus metrics", None
    ),
    "SWITCHBOARD_DEFAULT_AGENT_CAPACITY": (
        "conversations an agent without its own `maxConversations` holds at once", "5"
    ),
    "SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": (
        "`1`: webhooks may go to private, loopback and link-local addresses (`switchboard dev` sets it)", "0"
    ),
    "SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE": (
        "delays between a webhook's failed attempts, comma-separated (`500ms`, `5s`, `5m`, `2h`)",
        DEFAULT_RETRY_SCHEDULE,
    ),
    "SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS": ("how long a webhook receiver has to answer", "10"),
    "SWITCHBOARD_CONSOLE_SESSION_HOURS": (
        "how long a console sign-in lasts, in whole hours, before the user signs in again", "12"
    ),
    "SWITCHBOARD_STREAMS_PER_KEY": ("live event streams one API key may hold open at once, per API process", "5"),
    "SWITCHBOARD_STREAMS_PER_PROCESS": ("live event streams one API process holds open at once", "100"),
    "SWITCHBOARD_RETENTION_DAYS": (
        "days the event feed and webhook deliveries (with their attempts) are kept; couriers delete older ones",
        "30",
    ),
}



# A supervisor key an operator chooses must be as hard to guess as one we make.
MIN_KEY_LENGTH = 32
# A console session lasts a working day by default; a month at most.
MAX_CONSOLE_SESSION_HOURS = 720


class SettingsError(ValueError):
    """A setting that cannot work; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    temporal_address: str
    temporal_namespace: str
    task_queue: str
    temporal_ui_url: str
    api_host: str
    api_port: int
    bootstrap_supervisor_key: str | None
    worker_metrics_address: str | None
    default_agent_capacity: int
    webhook_allow_private: bool
    webhook_retry_schedule: tuple[timedelta, ...]
    webhook_timeout_seconds: float
    console_session_hours: int
    streams_per_key: int
    streams_per_process: int
    retention_days: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            return env.get(name) or VARIABLES[name][1]

        def value(name: str) -> str:
            """A variable with a default in VARIABLES, so never None."""
            found = get(name)
            assert found is not None, name
            return found

        home = Path(value("SWITCHBOARD_HOME"))
        key = get("SWITCHBOARD_SUPERVISOR_KEY")
        if key is not None and len(key) < MIN_KEY_LENGTH:
            raise SettingsError(f"SWITCHBOARD_SUPERVISOR_KEY must be at least {MIN_KEY_LENGTH} characters")
        port = value("SWITCHBOARD_API_PORT")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(f"SWITCHBOARD_API_PORT must be a port number, not {port!r}")
        capacity = value("SWITCHBOARD_DEFAULT_AGENT_CAPACITY")
        if not capacity.isdigit() or not 0 <= int(capacity) <= MAX_AGENT_CAPACITY:
            raise SettingsError(
                f"SWITCHBOARD_DEFAULT_AGENT_CAPACITY must be a number from 0 to {MAX_AGENT_CAPACITY}"
            )
        allow_private = value("SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE")
        if allow_private not in ("0", "1"):
            raise SettingsError("SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE must be 0 or 1")
        try:
            schedule = parse_retry_schedule(value("SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE"))
        except ValueError as error:
            raise SettingsError(f"SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE: {error}") from None
        timeout = value("SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS")
        try:
            timeout_seconds = float(timeout)
        except ValueError:
            timeout_seconds = 0
        if not 0 < timeout_seconds <= 60:
            raise SettingsError("SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS must be a number of seconds above 0, at most 60")
        session_hours = value("SWITCHBOARD_CONSOLE_SESSION_HOURS")
        if not session_hours.isdigit() or not 1 <= int(session_hours) <= MAX_CONSOLE_SESSION_HOURS:
            raise SettingsError(
                "SWITCHBOARD_CONSOLE_SESSION_HOURS must be a whole number of hours "
                f"from 1 to {MAX_CONSOLE_SESSION_HOURS}"
            )
        streams_per_key = _count(value("SWITCHBOARD_STREAMS_PER_KEY"), "SWITCHBOARD_STREAMS_PER_KEY", 1, 10_000)
        streams_per_process = _count(
            value("SWITCHBOARD_STREAMS_PER_PROCESS"), "SWITCHBOARD_STREAMS_PER_PROCESS", 1, 100_000)
        retention_days = _count(value("SWITCHBOARD_RETENTION_DAYS"), "SWITCHBOARD_RETENTION_DAYS", 1, 36_500)
        return cls(
            home=home,
            database_url=value("SWITCHBOARD_DATABASE_URL").replace("$SWITCHBOARD_HOME", str(home)),
            temporal_address=value("SWITCHBOARD_TEMPORAL_ADDRESS"),
            temporal_namespace=value("SWITCHBOARD_TEMPORAL_NAMESPACE"),
            task_queue=value("SWITCHBOARD_TASK_QUEUE"),
            temporal_ui_url=value("SWITCHBOARD_TEMPORAL_UI_URL"),
            api_host=value("SWITCHBOARD_API_HOST"),
            api_port=int(port),
            bootstrap_supervisor_key=key,
            worker_metrics_address=get("SWITCHBOARD_WORKER_METRICS_ADDRESS"),
            default_agent_capacity=int(capacity),
            webhook_allow_private=allow_private == "1",
            webhook_retry_schedule=schedule,
            webhook_timeout_seconds=timeout_seconds,
            console_session_hours=int(session_hours),
            streams_per_key=streams_per_key,
            streams_per_process=streams_per_process,
            retention_days=retention_days,
        )


def _count(text: str, name: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`, or the SettingsError naming the variable."""
    if not text.isdigit() or not low <= int(text) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}")
    return int(text)
