"""Request signatures (api-contract.md, Authentication) and app secrets.

The string to sign is ``METHOD \\n PATH \\n sorted query \\n timestamp \\n nonce \\n
sha256(body)`` (hex), signed as lowercase hex HMAC-SHA256 with the app secret, or
HMAC-SM3 (GB/T 32905 SM3 from gmssl, HMAC per RFC 2104 with a 64-byte block) when the
caller sends ``X-Signature-Method: HMAC-SM3``.

App secrets are never stored: each one is derived from ``KPP_SECRET_KEY`` and the key's
random salt, so the gateway can recompute it to verify, and a database copy alone
reveals nothing (docs/gateway.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import parse_qsl, quote

from gmssl import func as sm_func
from gmssl import sm3

from shared import clock
from shared.settings import get_settings

SHA256 = "HMAC-SHA256"
SM3 = "HMAC-SM3"
METHODS = (SHA256, SM3)
EMPTY_BODY_DIGEST = hashlib.sha256(b"").hexdigest()
_BLOCK = 64  # SM3 and SHA-256 both have a 64-byte block


def body_digest(body: bytes) -> str:
    return EMPTY_BODY_DIGEST if not body else hashlib.sha256(body).hexdigest()


def canonical_query(raw_query: str) -> str:
    """Decoded pairs sorted by (name, value), re-encoded RFC 3986 style (space → %20)."""
    if not raw_query:
        return ""
    pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


def string_to_sign(method: str, path: str, raw_query: str, timestamp: str, nonce: str, digest: str) -> bytes:
    return "\n".join((method.upper(), path, canonical_query(raw_query), timestamp, nonce, digest)).encode()


def sm3_digest(data: bytes) -> bytes:
    return bytes.fromhex(sm3.sm3_hash(sm_func.bytes_to_list(data)))


def hmac_sm3(key: bytes, message: bytes) -> str:
    """HMAC (RFC 2104) over SM3: H(K ^ opad || H(K ^ ipad || m)), hex."""
    if len(key) > _BLOCK:
        key = sm3_digest(key)
    key = key.ljust(_BLOCK, b"\0")
    inner = sm3_digest(bytes(b ^ 0x36 for b in key) + message)
    return sm3_digest(bytes(b ^ 0x5C for b in key) + inner).hex()


class Signer:
    """One app secret, ready to sign: the HMAC-SHA256 key schedule is computed once."""

    __slots__ = ("_key", "_sha256")

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()
        self._sha256 = hmac.new(self._key, digestmod=hashlib.sha256)

    def sign(self, message: bytes, method: str = SHA256) -> str:
        if method == SM3:
            return hmac_sm3(self._key, message)
        mac = self._sha256.copy()
        mac.update(message)
        return mac.hexdigest()

    def verify(self, message: bytes, signature: str, method: str = SHA256) -> bool:
        return hmac.compare_digest(self.sign(message, method), signature.lower())


def new_salt() -> str:
    return secrets.token_hex(16)


def derive_secret(app_key: str, salt: str) -> str:
    """The app's secret: HMAC-SHA256(KPP_SECRET_KEY, label ‖ app key ‖ salt), hex."""
    master = get_settings().secret_key.encode()
    msg = b"kpp-app-secret\0" + app_key.encode() + b"\0" + salt.encode()
    return hmac.new(master, msg, hashlib.sha256).hexdigest()


def fingerprint(secret: str) -> str:
    """A short public fingerprint of a secret (shows admins which secret is current)."""
    return hashlib.sha256(b"kpp-fp\0" + secret.encode()).hexdigest()[:16]


def signed_headers(
    app_key: str,
    secret: str,
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    algorithm: str = SHA256,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers a platform sends (also used for webhook deliveries, tests and benches)."""
    ts = str(clock.wall_timestamp() if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(12)
    message = string_to_sign(method, path, query, ts, nonce, body_digest(body))
    headers = {
        "X-App-Key": app_key,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": Signer(secret).sign(message, algorithm),
    }
    if algorithm != SHA256:
        headers["X-Signature-Method"] = algorithm
    return headers
