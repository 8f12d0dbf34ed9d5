"""Operations: Prometheus metrics on the API and the worker, JSON logs without secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from switchboard.logs import JsonFormatter
from tests.conftest import Stack
from tests.helpers import create_conversation, create_queue, unique
from tests.processes import free_port


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus text page, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_api_metrics_parse_and_count_the_requests_made(stack: Stack):
    for _ in range(3):
        assert (await stack.http.get("/ccaas/1/queues")).status_code == 200
    assert (await stack.http.get("/ccaas/1/queues", headers={"Authorization": "App nope"})).status_code == 401
    assert (await stack.http.get("/ccaas/1/queues/unknown")).status_code == 404

    page = await stack.http.get("/metrics", headers={"Authorization": ""})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    metrics = samples(page.text)

    def requests(route: str, status: str) -> float:
        key = ("switchboard_http_requests_total",
               tuple(sorted({"method": "GET", "route": route, "status": status}.items())))
        return metrics.get(key, 0)

    assert requests("/ccaas/1/queues", "200") == 3
    # Refused before routing (no route is matched yet), and counted all the same.
    assert requests("unmatched", "401") == 1
    assert requests("/ccaas/1/queues/{queue_id}", "404") == 1
    durations = ("switchboard_http_request_duration_seconds_count",
                 tuple(sorted({"method": "GET", "route": "/ccaas/1/queues"}.items())))
    assert metrics[durations] == 3


async def test_access_lines_are_json_name_the_conversation_and_hide_secrets(stack: Stack, caplog):
    caplog.set_level(logging.INFO, logger="switchboard.access")
    conversation = await create_conversation(stack.http, queueId=(await create_queue(stack.http))["id"])
    phone = "+385 91 555 0101"
    await stack.http.get(f"/ccaas/1/conversations/{conversation['id']}")
    await stack.http.get("/people/2/persons", params={"identifier": phone, "type": "PHONE"})

    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records
             if record.name == "switchboard.access"]
    assert all({"time", "level", "logger", "message", "durationMs"} <= set(line) for line in lines)
    read = next(line for line in lines if line["message"] == "GET /ccaas/1/conversations/{conversation_id} 200")
    assert read["conversationId"] == conversation["id"]
    text = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    # In any form the query string could take (as sent, URL-encoded, digits only); not "385"
    # alone, which a conversation id's hex may hold.
    assert all(form not in text for form in (phone, "91 555 0101", "91%20555%200101", "91+555+0101", "385915550101"))
    assert stack.supervisor_key not in text


async def test_a_worker_serves_the_sdk_metrics(database_url: str, temporal_client: Client):
    address = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "SWITCHBOARD_DATABASE_URL": database_url,
           "SWITCHBOARD_TEMPORAL_ADDRESS": temporal_client.service_client.config.target_host,
           "SWITCHBOARD_TASK_QUEUE": unique("metrics"), "SWITCHBOARD_WORKER_METRICS_ADDRESS": address}
    # Without blocking the event loop the session's fixtures share while it waits.
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "switchboard.cli", "worker", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    assert worker.stderr is not None
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while True:
                assert worker.returncode is None, (await worker.stderr.read()).decode()
                try:
                    page = await http.get(f"http://{address}/metrics", timeout=1)
                    if any(name.startswith("temporal_") for name, _ in samples(page.text)):
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the worker never served its metrics"
                await asyncio.sleep(0.2)
    finally:
        if worker.returncode is None:  # an exited one cannot be signalled (ProcessLookupError)
            worker.terminate()
        await asyncio.wait_for(worker.wait(), 30)
