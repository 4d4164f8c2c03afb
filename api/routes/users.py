"""Users and their roles (admins), and each user's personal API tokens."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from api.cursors import decode_cursor, encode_cursor
from api.deps import ServicesDep
from api.identity import require
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.schemas.users import PasswordReset, TokenCreate, TokenIssued, TokenPublic, UserCreate, UserPublic, UserUpdate
from people.access import Permission, Principal
from people.model import Role, User

router = APIRouter(tags=["users"])

AdminDep = Annotated[Principal, require(Permission.ADMIN)]
# Every permission a signed-in user may hold: anyone signed in manages their own tokens.
SignedInDep = Annotated[Principal, require(*Permission)]


@router.get("/users", response_model=Page[UserPublic])
def list_users(
    services: ServicesDep, _: AdminDep,
    role: Annotated[Role | None, Query(description="Only users holding this role.")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or disabled (false) users.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[UserPublic]:
    """Users by login name, with their roles."""
    users = [user for user in services.identity().users.list(role)
             if active is None or user.active == active]
    after = decode_cursor(cursor, str)
    rest = [user for user in users if after is None or user.id > after[0]]
    page = rest[:limit]
    next_cursor = encode_cursor(page[-1].id, 0) if len(rest) > limit else None
    return Page[UserPublic](items=[UserPublic.of(user) for user in page], total=len(users), next_cursor=next_cursor)


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def add_user(body: UserCreate, services: ServicesDep, _: AdminDep) -> UserPublic:
    """Add a user with roles, and a password unless they sign in by single sign-on (422 if the name is taken)."""
    user = User(body.id, body.name, frozenset(body.roles), body.phone, body.email, locale=body.locale,
                sites=frozenset(body.sites))
    return UserPublic.of(services.identity().add_user(user, body.password))


@router.get("/users/{user_id}", response_model=UserPublic)
def get_user(user_id: str, services: ServicesDep, _: AdminDep) -> UserPublic:
    return UserPublic.of(services.identity().users.get(user_id))


@router.patch("/users/{user_id}", response_model=UserPublic)
def update_user(user_id: str, body: UserUpdate, services: ServicesDep, principal: AdminDep) -> UserPublic:
    """Change a user's name, roles, contact, language or sites; ``active: false`` disables them (their
    sessions end and their tokens are revoked). An admin cannot disable or demote themselves."""
    accounts = services.identity()
    user = accounts.users.get(user_id)
    changes = body.model_dump(exclude_unset=True)
    if user_id == principal.user_id and (changes.get("active") is False
                                         or ("roles" in changes and Role.ADMIN not in changes["roles"])):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "you cannot disable or demote yourself")
    if "roles" in changes:
        changes["roles"] = frozenset(body.roles or ())
    if "sites" in changes:
        changes["sites"] = frozenset(body.sites or ())
    active = changes.pop("active", None)
    updated = accounts.update_user(replace(user, **changes))
    if active is not None and active != updated.active:
        updated = accounts.set_active(user_id, active)
    return UserPublic.of(updated)


@router.post("/users/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def reset_password(user_id: str, body: PasswordReset, services: ServicesDep, _: AdminDep) -> Response:
    """Set a user's password; it unlocks the account and ends the user's sessions."""
    services.identity().set_password(user_id, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/tokens", response_model=Page[TokenPublic])
def my_tokens(services: ServicesDep, principal: SignedInDep) -> Page[TokenPublic]:
    """Your personal API tokens (never their secrets), revoked ones included."""
    tokens = services.identity().tokens.list(principal.user_id)
    return Page[TokenPublic](items=[TokenPublic.of(token) for token in tokens], total=len(tokens))


@router.post("/me/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, services: ServicesDep, principal: SignedInDep) -> TokenIssued:
    """A personal API token for an integration, with the scopes (among your permissions) and expiry you
    choose. The token is in this answer only."""
    scopes = None if body.scopes is None else frozenset(scope.value for scope in body.scopes)
    token, info = services.identity().issue_token(principal.user_id, body.name, scopes, body.expires_at)
    return TokenIssued(**TokenPublic.of(info).model_dump(), token=token)


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, services: ServicesDep, principal: SignedInDep) -> Response:
    """Revoke one of your tokens (404 if it is not yours or already revoked)."""
    services.identity().revoke_token(token_id, principal.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
