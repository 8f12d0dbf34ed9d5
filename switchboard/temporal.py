"""Connecting to Temporal with the data converter every Switchboard process must share."""

from __future__ import annotations

import asyncio
import time

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


async def connect(address: str, namespace: str, runtime: Runtime | None = None) -> Client:
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter, runtime=runtime
    )


def metrics_runtime(bind_address: str) -> Runtime:
    """A runtime whose Prometheus endpoint (http://<bind_address>/metrics) serves the SDK's
    own metrics: workflow and activity tasks, latencies, failures."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))


async def connect_with_retry(
    address: str, namespace: str, timeout: float = 60.0, runtime: Runtime | None = None
) -> Client:
    """Waits for a server that is still starting (the dev stack, a compose service)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await connect(address, namespace, runtime)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
