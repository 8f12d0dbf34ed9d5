"""The directory: queues, agents, bots, people, webhooks and working hours, each managed through the API."""

from fastapi import APIRouter

from console import directory_agents, directory_bots, directory_people, directory_queues, webhooks, working_hours

router = APIRouter()
for part in (directory_queues, directory_agents, directory_bots, directory_people, webhooks, working_hours):
    router.include_router(part.router)
