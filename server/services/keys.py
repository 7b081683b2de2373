"""RSA key pairs for actors (2048 bits, as the fediverse expects)."""

from __future__ import annotations


def generate_key_pair() -> tuple[str, str]:
    """A new (private PEM, public PEM) pair."""
    # imported here: a start-up that makes no key never loads ``cryptography``
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem
