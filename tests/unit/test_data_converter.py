"""switchboard.temporal.DATA_CONVERTER: one payload converter per process, which reads and
writes what temporalio's pydantic converter does."""

from __future__ import annotations

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import WorkflowSerializationContext

from domain.conversation import CreateResult
from switchboard.temporal import DATA_CONVERTER, SharedPydanticPayloadConverter


def test_every_build_of_the_payload_converter_is_the_one_converter() -> None:
    # As the SDK builds one for every workflow run and activation.
    one = SharedPydanticPayloadConverter()
    assert SharedPydanticPayloadConverter() is one
    assert DATA_CONVERTER.payload_converter_class() is one
    assert one.with_context(WorkflowSerializationContext(namespace="default", workflow_id="w")) is one


def test_it_writes_and_reads_as_the_pydantic_converter_does() -> None:
    value = CreateResult(created=True)
    ours = DATA_CONVERTER.payload_converter.to_payloads([value])
    assert ours == pydantic_data_converter.payload_converter.to_payloads([value])
    assert DATA_CONVERTER.payload_converter.from_payloads(ours, [CreateResult]) == [value]
