"""Request and response bodies of the people routes: technicians, shifts, dispatch proposals."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator

from api.params import ZonedTime
from people.model import Role, Shift, Skill, Technician, User
from workorders.dispatch import Candidate
from workorders.dispatcher import Proposal


class TechnicianPublic(BaseModel):
    id: str
    name: str
    roles: list[Role]
    phone: str | None
    email: str | None
    active: bool
    supervisor_id: str | None
    skills: list[Skill]
    certificates: dict[str, date] = Field(description="Certificate code -> the last day it is valid.")
    sites: list[str]
    zone: str | None

    @classmethod
    def of(cls, user: User, tech: Technician) -> TechnicianPublic:
        return cls(id=user.id, name=user.name, roles=sorted(user.roles), phone=user.phone, email=user.email,
                   active=user.active, supervisor_id=user.supervisor_id, skills=sorted(tech.skills),
                   certificates=dict(sorted(tech.certificates.items())), sites=sorted(tech.sites), zone=tech.zone)


class TechnicianPut(BaseModel):
    """A technician as a whole: the user (name, contact, roles) and what they may work on."""

    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field([], description="Roles besides 'technician', which every technician has.")
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)
    active: bool = True
    supervisor_id: str | None = Field(None, max_length=64)
    skills: list[Skill] = Field(min_length=1)
    certificates: dict[str, date] = Field({}, description="Certificate code -> the last day it is valid, "
                                                          "e.g. {\"elevator\": \"2027-06-30\"}.")
    sites: list[str] = Field([], description="The sites worked at; empty: every site of the zone.")
    zone: str | None = Field(None, max_length=64)

    def user(self, user_id: str) -> User:
        return User(user_id, self.name, frozenset({*self.roles, Role.TECHNICIAN}), self.phone, self.email,
                    self.active, self.supervisor_id)

    def technician(self, user_id: str) -> Technician:
        return Technician(user_id, frozenset(self.skills), dict(self.certificates), frozenset(self.sites), self.zone)


class ShiftPublic(BaseModel):
    id: int | None
    user_id: str
    starts_at: datetime
    ends_at: datetime
    on_call: bool

    @classmethod
    def of(cls, shift: Shift) -> ShiftPublic:
        return cls(id=shift.id, user_id=shift.user_id, starts_at=shift.starts_at, ends_at=shift.ends_at,
                   on_call=shift.on_call)


class ShiftCreate(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)
    starts_at: ZonedTime
    ends_at: ZonedTime
    on_call: bool = Field(False, description="An on-call duty (emergencies outside the shifts), not a shift.")

    @model_validator(mode="after")
    def _ends_after_start(self) -> ShiftCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def shift(self) -> Shift:
        return Shift(self.user_id, self.starts_at, self.ends_at, self.on_call)


class CandidatePublic(BaseModel):
    user_id: str
    duty: str = Field(description="on shift, on call or off duty")
    available: bool = Field(description="On shift, or on call for an emergency: auto-dispatch may pick them.")
    nearness: str = Field(description="site (covers it), zone (same zone) or further")
    open_orders: int
    reasons: list[str]

    @classmethod
    def of(cls, candidate: Candidate) -> CandidatePublic:
        return cls(user_id=candidate.user_id, duty=candidate.duty.value, available=candidate.available,
                   nearness=candidate.nearness.name.lower(), open_orders=candidate.open_orders,
                   reasons=list(candidate.reasons))


class Unqualified(BaseModel):
    user_id: str
    reason: str


class ProposalPublic(BaseModel):
    work_order_id: int
    at: datetime
    skill: Skill = Field(description="The skill the order needs.")
    certificate: str | None = Field(description="The certificate it needs, valid on the day (elevator work).")
    why: str = Field(description="What the skill was read from.")
    candidates: list[CandidatePublic] = Field(description="Qualified technicians, best first.")
    unqualified: list[Unqualified]

    @classmethod
    def of(cls, proposal: Proposal) -> ProposalPublic:
        need = proposal.job.need
        return cls(work_order_id=proposal.order.id, at=proposal.at, skill=need.skill, certificate=need.certificate,
                   why=need.why, candidates=[CandidatePublic.of(c) for c in proposal.candidates],
                   unqualified=[Unqualified(user_id=u, reason=r) for u, r in proposal.unqualified])


class DispatchRequest(BaseModel):
    technician: str | None = Field(None, max_length=64, description="Whom to send; omitted: the best "
                                   "available candidate (auto-dispatch).")
    note: str = Field("", max_length=2000)
    expected_version: int | None = Field(None, description="The version read; a stale one answers 409.")
