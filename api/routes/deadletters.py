"""Dead letters: device messages the collector rejected, with the reason, for inspection."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ServicesDep
from api.schemas import DeadLetterPublic

router = APIRouter(prefix="/deadletters", tags=["dead letters"])


@router.get("", response_model=list[DeadLetterPublic])
def list_dead_letters(
    services: ServicesDep,
    reason: Annotated[str | None, Query(description="A reject code, e.g. out_of_range, invalid_json.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetterPublic]:
    """Rejected device messages, newest first, optionally of one reason."""
    return [DeadLetterPublic.of(letter) for letter in services.db.dead_letters.list(reason, limit)]
