"""Time-based one-time passwords (RFC 6238) for the coach's optional second login factor.

HOTP (RFC 4226) over HMAC-SHA-1 with 30-second steps and 6 digits: what every
authenticator app understands from an ``otpauth://`` URI. The secret is base32
without padding, as those apps expect it. Only the standard library is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
# codes of the previous and the next step are accepted too (clock drift)
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits, the size RFC 4226 recommends for HMAC-SHA-1


def new_secret() -> str:
    """Returns a fresh random secret of 160 bits, base32-encoded without padding."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    """Decodes a base32 secret; case, spaces and missing padding are forgiven.

    Raises ``ValueError`` (``binascii.Error``) when the secret is not base32.
    """
    cleaned = "".join(secret.split()).upper().rstrip("=")
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def code_at(secret: str, step: int, digits: int = DIGITS) -> str:
    """Returns the HOTP code of ``step`` (the counter) for a base32 secret.

    HMAC-SHA-1 of the step as an 8-byte big-endian counter, then RFC 4226
    dynamic truncation to ``digits`` decimal digits (leading zeros kept).
    """
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    (number,) = struct.unpack(">I", digest[offset : offset + 4])
    return str((number & 0x7FFFFFFF) % 10**digits).zfill(digits)


def step_of(moment: float) -> int:
    """Returns the 30-second time step of a Unix timestamp (RFC 6238, T0 = 0)."""
    return int(moment // STEP_SECONDS)


def verify(secret: str, code: str, moment: float, last_step: int | None) -> int | None:
    """Checks a code typed by the user; returns the step it belongs to, or None.

    The code of the current step and of one step before or after it are
    accepted. Spaces in the code are ignored ("123 456"). Every candidate is
    compared in constant time, and all of them are always compared. A step at
    or before ``last_step`` (the one of the previous successful login) is
    refused, so each code works once: store the returned step as the new
    ``last_step``.
    """
    typed = "".join(code.split())
    if len(typed) != DIGITS or not (typed.isascii() and typed.isdigit()):
        return None
    now = step_of(moment)
    matched: int | None = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_at(secret, step).encode("ascii"), typed.encode("ascii")):
            matched = step if matched is None else matched
    return matched


def provisioning_uri(secret: str, account: str, issuer: str = "Koers") -> str:
    """Returns the ``otpauth://totp/...`` URI an authenticator app reads (as text or QR code).

    The label is ``issuer:account`` with both parts URL-quoted (an ``@`` in an
    email stays readable); the issuer is repeated as a parameter, as the Key
    URI format asks.
    """
    label = f"{quote(issuer, safe='')}:{quote(account, safe='@')}"
    query = urlencode({"secret": secret, "issuer": issuer}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"
