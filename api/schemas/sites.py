"""What the API says about a site: its name, address and the time zone its local times are read in."""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.domain import Site


class SitePublic(BaseModel):
    id: str
    name: str
    address: str
    time_zone: str = Field(description="IANA zone of the site's local time (its own, or the configured "
                                       "default): rules' `during` windows and the reports follow it.")
    own_time_zone: bool = Field(description="Whether the zone is the site's own (false: the default).")

    @classmethod
    def of(cls, site: Site, default_zone: str) -> SitePublic:
        return cls(id=site.id, name=site.name, address=site.address, time_zone=site.time_zone or default_zone,
                   own_time_zone=site.time_zone is not None)
