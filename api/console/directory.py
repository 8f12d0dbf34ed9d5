"""The directory: queues, agents, bots, people and webhooks, each managed through the API."""

from fastapi import APIRouter

from api.console import directory_agents, directory_bots, directory_people, directory_queues, webhooks

router = APIRouter()
for part in (directory_queues, directory_agents, directory_bots, directory_people, webhooks):
    router.include_router(part.router)
