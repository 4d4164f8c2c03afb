"""The webhook delivery log as the API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from workorders.webhooks import Delivery


class DeliveryPublic(BaseModel):
    id: int
    event_id: str = Field(description="The event's id, also sent as the Facmon-Delivery header.")
    endpoint: str
    url: str
    topic: str
    status: str = Field(description="pending, delivered or failed.")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryPublic:
        return cls(**{name: getattr(delivery, name) for name in cls.model_fields})
