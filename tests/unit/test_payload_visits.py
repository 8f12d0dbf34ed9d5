"""switchboard.payload_visits: the SDK's payload visits are skipped only where they change
nothing, and the SDK still has them where and as the worker wraps them."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import pytest
import temporalio.worker._workflow as sdk_workflow_worker
from temporalio.api.common.v1 import Payload
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import DataConverter, PayloadCodec

from switchboard import payload_visits
from switchboard.temporal import DATA_CONVERTER

OPTIONS = {"storage_concurrency_limit": 1}


class Marking(PayloadCodec):
    """Marks what it encodes and decodes, so a visit that ran shows."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata={**payload.metadata, "encoded": b"yes"}, data=payload.data) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata={**payload.metadata, "decoded": b"yes"}, data=payload.data) for payload in payloads]


def a_completion() -> WorkflowActivationCompletion:
    completion = WorkflowActivationCompletion(run_id="run")
    command = completion.successful.commands.add()
    command.schedule_activity.seq = 1
    command.schedule_activity.activity_type = "project_conversation"
    command.schedule_activity.arguments.add(metadata={"encoding": b"json/plain"}, data=b'{"a": 1}')
    return completion


def an_activation() -> WorkflowActivation:
    activation = WorkflowActivation(run_id="run")
    job = activation.jobs.add()
    job.resolve_activity.seq = 1
    job.resolve_activity.result.completed.result.metadata["encoding"] = b"json/plain"
    job.resolve_activity.result.completed.result.data = b"2"
    return activation


def test_the_sdk_has_the_functions_the_worker_wraps_called_as_it_wraps_them() -> None:
    """An SDK release that renames them, changes what they take or stops calling them through
    their module (where the wrap is installed) fails here, not silently in production."""
    assert list(inspect.signature(payload_visits._SDK_DECODE).parameters) == [
        "activation", "data_converter", "decode_headers", "storage_concurrency_limit"]
    assert list(inspect.signature(payload_visits._SDK_ENCODE).parameters) == [
        "completion", "data_converter", "encode_headers", "storage_concurrency_limit"]
    source = inspect.getsource(sdk_workflow_worker)
    assert "temporalio.bridge.worker.decode_activation(" in source
    assert "temporalio.bridge.worker.encode_completion(" in source


async def test_with_switchboards_converter_the_sdks_visits_change_nothing() -> None:
    """What makes skipping them right: run as the SDK runs them, they leave every byte."""
    assert DATA_CONVERTER.payload_codec is None and DATA_CONVERTER.external_storage is None
    completion, activation = a_completion(), an_activation()
    await payload_visits._SDK_ENCODE(completion, DATA_CONVERTER, encode_headers=True, **OPTIONS)
    await payload_visits._SDK_DECODE(activation, DATA_CONVERTER, decode_headers=True, **OPTIONS)
    assert completion.SerializeToString() == a_completion().SerializeToString()
    assert activation.SerializeToString() == an_activation().SerializeToString()


async def test_a_converter_with_a_codec_still_goes_through_the_sdks_visits() -> None:
    with_codec = DataConverter(payload_codec=Marking())
    completion, activation = a_completion(), an_activation()
    await payload_visits.encode_completion(completion, with_codec, encode_headers=True, **OPTIONS)
    await payload_visits.decode_activation(activation, with_codec, decode_headers=True, **OPTIONS)
    assert completion.successful.commands[0].schedule_activity.arguments[0].metadata["encoded"] == b"yes"
    assert activation.jobs[0].resolve_activity.result.completed.result.metadata["decoded"] == b"yes"


async def test_switchboards_converter_skips_them(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the SDK's visit ran")

    monkeypatch.setattr(payload_visits, "_SDK_ENCODE", refuse)
    monkeypatch.setattr(payload_visits, "_SDK_DECODE", refuse)
    await payload_visits.encode_completion(a_completion(), DATA_CONVERTER, encode_headers=True, **OPTIONS)
    await payload_visits.decode_activation(an_activation(), DATA_CONVERTER, decode_headers=True, **OPTIONS)
