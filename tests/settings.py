"""Settings for a test's stack, made by the same `Settings.from_env` as `switchboard api` and
`switchboard worker` use, from the variables a user would set."""

from __future__ import annotations

from switchboard.settings import Settings
from tests.webhook_receiver import FAST_SCHEDULE


def stack_settings(database_url: str, task_queue: str, **variables: str) -> Settings:
    """Webhooks may go to receivers on 127.0.0.1 and are retried within seconds; the rest are
    the defaults unless `variables` (SWITCHBOARD_* names) say otherwise."""
    return Settings.from_env(stack_variables(database_url, task_queue, **variables))


def stack_variables(database_url: str, task_queue: str, **variables: str) -> dict[str, str]:
    """The environment `stack_settings` reads: for a `switchboard` process a test starts."""
    return {
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_TASK_QUEUE": task_queue,
        "SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": "1",
        "SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE": FAST_SCHEDULE,
        "SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS": "2",
        **variables,
    }
