"""Mosquitto's password file: ``user:$7$<iterations>$<salt>$<hash>`` (PBKDF2-SHA512, base64).

The format ``mosquitto_passwd`` writes in Mosquitto 2.0 (``$7$``, 101 iterations, a 12-byte salt), made with
the standard library's ``hashlib.pbkdf2_hmac`` so that provisioning needs no Mosquitto on the machine that
runs it. Tests check it against ``mosquitto_passwd``'s own output and a real broker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

ITERATIONS = 101  # mosquitto_passwd's default (Mosquitto 2.0)
SALT_BYTES = 12


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The ``$7$`` hash of ``password`` (a fresh random salt unless one is given)."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def matches(password: str, hashed: str) -> bool:
    """Whether ``password`` is the one ``hashed`` (a ``$7$`` hash) was made from."""
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
        if kind != "7":
            return False
        expected = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(base64.b64encode(expected).decode(), digest)


def new_password() -> str:
    """A random device password: 24 URL-safe characters (144 bits)."""
    return secrets.token_urlsafe(18)


def render_password_file(passwords: Mapping[str, str]) -> str:
    """The file's text from username -> plain password (hashed here, one line per user, sorted)."""
    return "".join(f"{user}:{hash_password(password)}\n" for user, password in sorted(passwords.items()))
