"""/ccaas/1/webhooks: subscriptions to events out, their deliveries and replays (supervisors)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ccaas/1/webhooks", tags=["webhooks"])
