"""ECDSA P-256 / SHA-256 for the mobile key (docs/mobile-key-protocol.md "Cryptography").

The server's push-signing key is derived from the master key with HKDF, so that every
process on one database signs with the same key and nothing extra is stored.
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: order of the P-256 group (FIPS 186-4 D.1.2.3)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    if not text or len(text) > 4096 or not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class EcdsaPushCrypto:
    def __init__(self, master_key: bytes) -> None:
        okm = HKDF(
            algorithm=hashes.SHA256(), length=40, salt=None, info=b"securelogin push-signing key"
        ).derive(master_key)
        scalar = int.from_bytes(okm, "big") % (P256_ORDER - 1) + 1
        self._key = ec.derive_private_key(scalar, ec.SECP256R1())
        self._public = b64url(public_der(self._key.public_key()))

    def load_public_key(self, encoded: str) -> bytes:
        der = unb64url(encoded)
        key = serialization.load_der_public_key(der)
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise ValueError("not a P-256 public key")
        return public_der(key)

    def verify(self, public_key: bytes, signature: str, message: bytes) -> bool:
        try:
            key = serialization.load_der_public_key(public_key)
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return False
            key.verify(unb64url(signature), message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True

    def sign(self, message: bytes) -> str:
        return b64url(self._key.sign(message, ec.ECDSA(hashes.SHA256())))

    def server_public_key(self) -> str:
        return self._public
