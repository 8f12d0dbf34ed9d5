"""GET /ccaas/1/events/stream: the live stream of events out (server-sent events)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ccaas/1/events", tags=["events"])
