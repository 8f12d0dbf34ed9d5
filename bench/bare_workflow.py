"""The end-to-end benchmark's baseline: the least a routed conversation needs (start, one
activity, record the answer). In a module of its own so the workflow sandbox stays cheap."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
def pick_queue(channel: str) -> str:
    return "queue-" + channel


@workflow.defn
class BareWorkflow:
    def __init__(self) -> None:
        self.queue: str | None = None

    @workflow.run
    async def run(self, local: bool) -> str:
        execute = workflow.execute_local_activity if local else workflow.execute_activity
        self.queue = await execute(pick_queue, "SMS", start_to_close_timeout=timedelta(seconds=10))
        return self.queue


async def serve(address: str, task_queue: str) -> None:
    """Runs a worker for the baseline until terminated: `python -m bench.bare_workflow ADDRESS QUEUE`."""
    import asyncio
    import signal
    from concurrent.futures import ThreadPoolExecutor

    from temporalio.client import Client
    from temporalio.worker import Worker

    client = await Client.connect(address)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with Worker(client, task_queue=task_queue, workflows=[BareWorkflow],
                      activities=[pick_queue], activity_executor=ThreadPoolExecutor(32)):
        await stop.wait()


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(serve(sys.argv[1], sys.argv[2]))
