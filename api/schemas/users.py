"""Request and response bodies of sign-in, user administration and personal API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from people.access import Permission, permissions_of
from people.credential_records import TokenInfo
from people.model import Role, User

_LOCALE = Field(None, max_length=16, pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$",
                description="Preferred language (en, zh-CN); null: the browser's.")
_USER_ID = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$",
                 description="The login name.")


class Me(BaseModel):
    id: str
    name: str
    roles: list[Role]
    permissions: list[Permission]
    locale: str | None
    sites: list[str] = Field(description="A resident's sites (empty for staff).")
    via: str = Field(description="How this request signed in: session, oidc, token or local.")


def me_of(user: User, via: str) -> Me:
    return Me(id=user.id, name=user.name, roles=sorted(user.roles), permissions=sorted(permissions_of(user.roles)),
              locale=user.locale, sites=sorted(user.sites), via=via)


class UserPublic(BaseModel):
    id: str
    name: str
    roles: list[Role]
    active: bool
    email: str | None
    phone: str | None
    locale: str | None
    sites: list[str]
    created_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(id=user.id, name=user.name, roles=sorted(user.roles), active=user.active, email=user.email,
                   phone=user.phone, locale=user.locale, sites=sorted(user.sites), created_at=user.created_at)


class UserCreate(BaseModel):
    id: str = _USER_ID
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1, max_length=8)
    password: str | None = Field(None, min_length=10, max_length=1024,
                                 description="None: signs in by single sign-on or tokens only.")
    email: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    locale: str | None = _LOCALE
    sites: list[str] = Field(default_factory=list, max_length=100)


class UserUpdate(BaseModel):
    """The fields to change; those left out stay as they are."""

    name: str | None = Field(None, min_length=1, max_length=200)
    roles: list[Role] | None = Field(None, min_length=1, max_length=8)
    active: bool | None = None
    email: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    locale: str | None = _LOCALE
    sites: list[str] | None = Field(None, max_length=100)


class PasswordReset(BaseModel):
    password: str = Field(min_length=10, max_length=1024)


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="What the token is for.")
    scopes: list[Permission] | None = Field(None, description="What it may do, among your permissions; "
                                                              "null: all of them.")
    expires_at: AwareDatetime | None = Field(None, description="When it stops working; null: the longest allowed.")


class TokenPublic(BaseModel):
    id: str
    name: str
    scopes: list[Permission]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, info: TokenInfo) -> TokenPublic:
        return cls(id=info.id, name=info.name, scopes=sorted(Permission(s) for s in info.scopes),
                   created_at=info.created_at, expires_at=info.expires_at, last_used_at=info.last_used_at,
                   revoked_at=info.revoked_at)


class TokenIssued(TokenPublic):
    token: str = Field(description="fm_<id>_<secret>: shown this once; send as 'Authorization: Bearer <token>'.")
