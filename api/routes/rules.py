"""The rules: reload the configured rule files without a restart."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.schemas import RulesReloaded

router = APIRouter(prefix="/rules", tags=["rules"])


@router.post("/reload", response_model=RulesReloaded)
def reload_rules(services: ServicesDep) -> RulesReloaded:
    """Read the rule files again; unchanged rules keep their timers and active alarms. 422 with the
    file, line and rule when a file is invalid (the running rules stay as they were)."""
    return RulesReloaded.model_validate(services.rules.reload())
