"""Skips the Temporal SDK's payload visits when they can change nothing.

temporalio 1.35 walks every payload of every workflow activation three times on the way in
(decode references, retrieve from external storage, codec decode) and of every completion
three times on the way out, whatever the data converter. With no payload codec and no
external storage, as Switchboard's converter (`switchboard.temporal`) has, each pass returns
every payload as it found it; the walks were a sixth of a loaded worker's time (py-spy).

`install()` wraps the SDK's two module functions so a converter without codec and storage
skips them, and any other converter goes through them as before. `tests/unit/
test_payload_visits.py` fails if an SDK release renames them or changes what they are given.
"""

from __future__ import annotations

from typing import Any

import temporalio.bridge.worker as bridge_worker
from temporalio.converter import DataConverter
from temporalio.converter._extstore import StorageOperationMetrics

_SDK_DECODE = bridge_worker.decode_activation
_SDK_ENCODE = bridge_worker.encode_completion


def _visits_change_nothing(data_converter: DataConverter) -> bool:
    return data_converter.payload_codec is None and data_converter.external_storage is None


async def decode_activation(activation: Any, data_converter: DataConverter, **options: Any) -> StorageOperationMetrics:
    if _visits_change_nothing(data_converter):
        return StorageOperationMetrics()
    return await _SDK_DECODE(activation, data_converter, **options)


async def encode_completion(completion: Any, data_converter: DataConverter, **options: Any) -> StorageOperationMetrics:
    if _visits_change_nothing(data_converter):
        return StorageOperationMetrics()
    return await _SDK_ENCODE(completion, data_converter, **options)


def install() -> None:
    """Once per worker process, before its Worker runs."""
    bridge_worker.decode_activation = decode_activation  # type: ignore[assignment]
    bridge_worker.encode_completion = encode_completion  # type: ignore[assignment]
