"""`switchboard dev | api | worker | courier | demo | migrate`: the processes of a Switchboard installation."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from switchboard import heap
from switchboard.logs import configure_logging
from switchboard.settings import Settings, SettingsError


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_worker(settings: Settings) -> None:
    from store.db import make_engine
    from switchboard.composition import worker_process
    from switchboard.temporal import connect_with_retry, metrics_runtime

    # The schema is the API's to create (bootstrap); activities retry until it exists.
    engine = make_engine(settings.database_url)
    address = settings.worker_metrics_address
    runtime = metrics_runtime(address) if address else None
    client = await connect_with_retry(settings.temporal_address, settings.temporal_namespace, runtime=runtime)
    worker = worker_process(settings, engine, client)
    heap.settle()
    async with worker:
        logging.getLogger("switchboard").info("worker polling task queue %s", settings.task_queue)
        await _wait_for_signal()


async def run_courier(settings: Settings) -> None:
    from store.db import make_engine
    from switchboard.composition import courier_process

    # Like the worker's activities, the courier's passes fail (and are tried again) until the
    # API has created the schema.
    engine = make_engine(settings.database_url)
    async with courier_process(settings, engine):
        heap.settle()
        logging.getLogger("switchboard").info("courier delivering webhooks")
        await _wait_for_signal()


def run_migrate(settings: Settings) -> int:
    from store.db import make_engine, migrate

    # The API migrates on start too; this is for upgrading before (or without) starting it.
    engine = make_engine(settings.database_url)
    try:
        revision = migrate(engine)
    finally:
        engine.dispose()
    print(f"database schema at revision {revision}", flush=True)
    return 0


async def run_api(settings: Settings) -> None:
    import uvicorn

    from store.bootstrap import bootstrap
    from store.db import make_engine
    from switchboard.composition import api_app
    from switchboard.temporal import connect_with_retry

    engine = make_engine(settings.database_url)
    new_key = bootstrap(engine, settings.bootstrap_supervisor_key)
    if new_key:
        print(f"Supervisor API key (shown once): {new_key}", flush=True)
    client = await connect_with_retry(settings.temporal_address, settings.temporal_namespace)
    app = api_app(settings, engine, client)
    heap.settle()
    # Our own access lines (api/observability.py) replace uvicorn's, which carry query strings.
    config = uvicorn.Config(app, host=settings.api_host, port=settings.api_port,
                            log_config=None, access_log=False)
    await uvicorn.Server(config).serve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="the embedded stack: Temporal dev server, worker, API, SQLite")
    commands.add_parser("api", help="the HTTP API (bootstraps the database on first start)")
    commands.add_parser("worker", help="a Temporal worker for conversation workflows")
    commands.add_parser("courier", help="a courier: delivers webhooks (run one or more)")
    commands.add_parser("demo", help="the chatbot hand-off scenario against a running stack")
    commands.add_parser("migrate", help="upgrade the database's schema to the newest revision")
    args = parser.parse_args(argv)

    configure_logging()
    try:
        settings = Settings.from_env()
    except SettingsError as bad_setting:
        print(f"switchboard {args.command}: {bad_setting}", file=sys.stderr)
        return 2
    return run(args.command, settings)


def run(command: str, settings: Settings) -> int:
    if command == "dev":
        from switchboard.dev import run_dev

        return run_dev(settings)
    if command == "demo":
        from switchboard.demo import run_demo

        return run_demo(settings)
    if command == "migrate":
        return run_migrate(settings)
    runner = {"api": run_api, "worker": run_worker, "courier": run_courier}[command]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(runner(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
