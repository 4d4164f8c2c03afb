"""The audit log as the API shows it to admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str = Field(description="The user id of whoever did it ('anonymous' for an open write).")
    via: str = Field(description="How they were signed in: session, oidc, token, local, cli or public.")
    action: str = Field(description='What they did, e.g. "alarm.acknowledge"; "<METHOD> <route>" when the '
                                    "route did not name it.")
    target_type: str | None
    target_id: str | None
    before: dict[str, Any] | None = Field(description="The record before (null: created, or not known).")
    after: dict[str, Any] | None = Field(description="The record after, as the answer showed it (null: deleted).")
    request_id: str | None
    status: int | None = Field(description="The HTTP status the write answered (null from the CLI).")
