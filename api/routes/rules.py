"""The rules: reload the configured rule files without a restart."""

from __future__ import annotations

from fastapi import APIRouter

from api.audit import AuditDep
from api.deps import ServicesDep
from api.identity import require
from api.schemas import RulesReloaded
from people.access import Permission

router = APIRouter(prefix="/rules", tags=["rules"], dependencies=[require(Permission.ADMIN)])


@router.post("/reload", response_model=RulesReloaded)
def reload_rules(services: ServicesDep, audit: AuditDep) -> RulesReloaded:
    """Read the rule files again; unchanged rules keep their timers and active alarms. 422 with the
    file, line and rule when a file is invalid (the running rules stay as they were)."""
    return audit.record("rules.reload", "rules", None, None, RulesReloaded.model_validate(services.rules.reload()))
