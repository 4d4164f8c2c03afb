"""Dead letters: device messages the collector rejected, with the reason; listed, and reprocessed after a fix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.audit import AuditDep
from api.deps import Services, ServicesDep
from api.identity import require
from api.schemas import DeadLetterPublic
from collector.decode import Decoder
from collector.registry import AssetRegistry
from collector.reprocess import build_decoder, reprocess, select_letters
from core.settings import CollectorSettings
from people.access import Permission

router = APIRouter(prefix="/deadletters", tags=["dead letters"], dependencies=[require(Permission.ADMIN)])


class DeadLetterReprocess(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, description="Only letters of this reject code, e.g. unknown_asset.")
    ids: list[int] | None = Field(None, description="Only these letters.")
    limit: int = Field(1000, ge=1, le=100_000, description="At most this many letters, oldest first.")


class ReprocessPublic(BaseModel):
    reprocessed: int = Field(description="Letters decoded again.")
    accepted: int = Field(description="Letters accepted now: their readings are stored and the letters deleted.")
    still_rejected: int = Field(description="Letters rejected again; they stay.")
    readings: int = Field(description="Readings written to the telemetry store.")


@router.get("", response_model=list[DeadLetterPublic])
def list_dead_letters(
    services: ServicesDep,
    reason: Annotated[str | None, Query(description="A reject code, e.g. out_of_range, invalid_json.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetterPublic]:
    """Rejected device messages, newest first, optionally of one reason."""
    return [DeadLetterPublic.of(letter) for letter in services.db.dead_letters.list(reason, limit)]


@router.post("/reprocess", response_model=ReprocessPublic)
def reprocess_dead_letters(services: ServicesDep, request: DeadLetterReprocess, audit: AuditDep) -> ReprocessPublic:
    """Decode stored letters again (after a fix, e.g. a newly registered asset).

    Accepted readings are written to the telemetry store and their letters deleted; the others stay.
    Each letter is judged against the time it was first received.
    """
    chosen = select_letters(services.db.dead_letters, request.reason, request.ids, request.limit)
    result = reprocess(chosen, _decoder(services), services.store, services.db.dead_letters)
    return audit.record("deadletters.reprocess", "dead_letters", None, request, ReprocessPublic(**result.as_dict()))


def _decoder(services: Services) -> Decoder:
    if services.decoder is not None:
        return services.decoder()
    return build_decoder(AssetRegistry(services.db.assets.list), CollectorSettings(), services.clock,
                         reprocessing=True)
