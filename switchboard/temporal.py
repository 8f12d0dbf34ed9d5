"""Connecting to Temporal with the data converter every Switchboard process must share."""

from __future__ import annotations

import asyncio
import time

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter


async def connect(address: str, namespace: str) -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)


async def connect_with_retry(address: str, namespace: str, timeout: float = 60.0) -> Client:
    """Waits for a server that is still starting (the dev stack, a compose service)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await connect(address, namespace)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
