"""Connecting to Temporal with the data converter every Switchboard process must share."""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar, Self

from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter, SerializationContext
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    """temporalio's pydantic payload converter, one per process. The SDK builds a payload
    converter from its class for every workflow run and twice for every activation (a fresh
    serializer and an empty cache of pydantic type adapters each time): 3-4 % of a loaded
    worker's time (py-spy). It holds no state but that cache and takes no serialization
    context, so every one of those builds may be the same converter."""

    _the_one: ClassVar[SharedPydanticPayloadConverter | None] = None

    def __new__(cls) -> Self:
        if cls._the_one is None:
            the_one = super().__new__(cls)
            PydanticPayloadConverter.__init__(the_one)
            cls._the_one = the_one
        return cls._the_one  # type: ignore[return-value]

    def __init__(self) -> None:
        """Built once, in __new__."""

    def with_context(self, context: SerializationContext) -> Self:
        return self


# Every Switchboard process must use it: workflows, activities and clients read each other's payloads.
DATA_CONVERTER = DataConverter(payload_converter_class=SharedPydanticPayloadConverter)


async def connect(address: str, namespace: str, runtime: Runtime | None = None) -> Client:
    return await Client.connect(
        address, namespace=namespace, data_converter=DATA_CONVERTER, runtime=runtime
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
