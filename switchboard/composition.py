"""The composition root: the site (the API, with the web console beside it at /console), the
worker process and the courier process as `switchboard api`, `switchboard worker` and
`switchboard courier` build them from their settings. The integration tests build theirs
here too, from settings made by the same `Settings.from_env`, so what runs is what is tested."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.app import UPDATE_DEADLINE_SECONDS, create_app
from api.beside import mount_beside
from console import CONSOLE_PATH
from console.app import create_console
from domain.models import utcnow
from services.courier import CourierSettings
from services.retention import Retention
from switchboard.courier import CourierProcess
from switchboard.settings import Settings
from switchboard.worker import WorkerProcess, build_worker


def api_app(
    settings: Settings, engine: Engine, temporal: Client, *,
    update_deadline: float = UPDATE_DEADLINE_SECONDS, clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """The site: the API, and the console at CONSOLE_PATH beside it (api.beside), a client of
    this same API in process, with the API's security headers, metrics and body limit.
    `update_deadline` and `clock` are for tests that wait less or fix the time."""
    api = create_app(
        engine, temporal, settings.task_queue, settings.temporal_ui_url, update_deadline=update_deadline,
        default_agent_capacity=settings.default_agent_capacity,
        webhook_allow_private=settings.webhook_allow_private, clock=clock,
        streams_per_key=settings.streams_per_key, streams_per_process=settings.streams_per_process,
    )
    console = create_console(
        api, engine, session_lifetime=timedelta(hours=settings.console_session_hours), clock=clock,
        stream_slots=api.state.stream_slots, feed_reader=api.state.feed_reader,
    )
    mount_beside(api, CONSOLE_PATH, console)
    return api


def worker_process(settings: Settings, engine: Engine, temporal: Client) -> WorkerProcess:
    return build_worker(temporal, engine, settings.task_queue, default_capacity=settings.default_agent_capacity)


def courier_process(settings: Settings, engine: Engine) -> CourierProcess:
    webhooks = CourierSettings(
        schedule=settings.webhook_retry_schedule, timeout=settings.webhook_timeout_seconds,
        allow_private=settings.webhook_allow_private,
    )
    return CourierProcess(engine, webhooks, Retention(engine, settings.retention_days))
