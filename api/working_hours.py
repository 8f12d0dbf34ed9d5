"""/ccaas/1/working-hours: when queues are open, as Infobip documents the resource."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ccaas/1/working-hours", tags=["working hours"])
