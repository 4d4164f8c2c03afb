"""Single sign-on with an OpenID Connect provider: the authorization code flow with PKCE (S256), and the ID
token verified against the provider's published keys (JWKS): signature, issuer, audience, expiry, nonce.

The flow uses Authlib's OAuth2 client (authorization URL, PKCE, code exchange over httpx) and joserfc (the
JOSE library Authlib itself builds on) for the ID token. The state, nonce and PKCE verifier of a flow in
progress live in a short-lived HttpOnly cookie on the browser that started it, so any API replica can
finish the flow and a callback from another browser fails.
"""

from __future__ import annotations

import secrets
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core.errors import ServiceUnavailable
from core.settings import OidcSettings
from people.accounts import SignInRefused

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import OAuth2Client

SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
METADATA_TTL_S = 3600.0
CLOCK_LEEWAY_S = 60


@dataclass(frozen=True, slots=True)
class Flow:
    """A sign-in in progress, kept in the browser's flow cookie as ``state.nonce.verifier``."""

    state: str
    nonce: str
    verifier: str

    def encode(self) -> str:
        return f"{self.state}.{self.nonce}.{self.verifier}"

    @classmethod
    def decode(cls, value: str | None) -> Flow | None:
        parts = (value or "").split(".")
        return cls(*parts) if len(parts) == 3 and all(parts) else None


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider says signed in."""

    subject: str
    username: str | None
    name: str | None


class OidcClient:
    def __init__(self, settings: OidcSettings, timeout_s: float = 10.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._metadata: dict[str, Any] | None = None
        self._fetched_at = 0.0

    def start(self) -> tuple[str, Flow]:
        """The provider's authorization URL to send the browser to, and the flow to remember."""
        flow = Flow(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))
        with self._client() as client:
            url, _ = client.create_authorization_url(self.metadata()["authorization_endpoint"], state=flow.state,
                                                     code_verifier=flow.verifier, nonce=flow.nonce)
        return str(url), flow

    def finish(self, code: str, state: str, flow: Flow | None) -> Identity:
        """Exchange ``code`` for tokens and verify the ID token; SignInRefused if anything is off."""
        if flow is None or not secrets.compare_digest(state.encode(), flow.state.encode()):
            raise SignInRefused("the single sign-on answer does not belong to this browser's sign-in; start again")
        metadata = self.metadata()
        with self._client() as client:
            try:
                token = client.fetch_token(metadata["token_endpoint"], code=code, code_verifier=flow.verifier)
            except Exception as error:  # Authlib raises OAuthError, httpx its own: both are a refusal here
                raise SignInRefused(f"the identity provider refused the code: {error}") from error
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused("the identity provider sent no ID token")
        claims = self._verify(id_token, flow.nonce)
        username = claims.get(self.settings.username_claim)
        name = claims.get("name")
        return Identity(str(claims["sub"]), username if isinstance(username, str) else None,
                        name if isinstance(name, str) else None)

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour); its issuer must be the configured one."""
        if self._metadata is None or time.monotonic() - self._fetched_at > METADATA_TTL_S:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            metadata = self._get_json(url)
            if metadata.get("issuer") != self.settings.issuer:
                raise ServiceUnavailable(f"OIDC discovery at {url} names issuer {metadata.get('issuer')!r}, "
                                         f"not the configured {self.settings.issuer!r}")
            self._metadata, self._fetched_at = metadata, time.monotonic()
        return self._metadata

    def _verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY_S, iss={"essential": True, "value": self.settings.issuer},
            aud={"essential": True, "value": self.settings.client_id}, nonce={"essential": True, "value": nonce},
            sub={"essential": True}, exp={"essential": True}, iat={"essential": True})
        try:
            keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"]))  # type: ignore[arg-type]
            token = jwt.decode(id_token, keys, algorithms=SIGNING_ALGORITHMS)
            registry.validate(token.claims)
        except (JoseError, ValueError) as error:
            raise SignInRefused(f"the ID token is not valid: {error}") from error
        return token.claims

    def _client(self) -> OAuth2Client:
        with warnings.catch_warnings():  # Authlib would rather use httpx2 and says so on every import
            warnings.simplefilter("ignore", DeprecationWarning)
            from authlib.integrations.httpx_client import OAuth2Client
        secret = self.settings.client_secret
        return OAuth2Client(self.settings.client_id, secret.get_secret_value() if secret else None,
                            scope=" ".join(self.settings.scopes), redirect_uri=self.settings.redirect_url,
                            code_challenge_method="S256", timeout=self.timeout_s,
                            token_endpoint_auth_method="client_secret_basic" if secret else "none")

    def _get_json(self, url: str) -> dict[str, Any]:
        with httpx.Client(timeout=self.timeout_s) as client:
            try:
                response = client.get(url)
                response.raise_for_status()
                document = response.json()
            except Exception as error:  # unreachable, an HTTP error or not JSON: the provider is down for us
                raise ServiceUnavailable(f"OIDC provider: {url}: {error}") from error
        if not isinstance(document, dict):
            raise ServiceUnavailable(f"OIDC provider: {url} is not a JSON object")
        return document
