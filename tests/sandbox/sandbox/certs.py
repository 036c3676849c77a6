"""Throw-away PKI: a CA + TLS server cert for 127.0.0.1/localhost, and a token-signing cert."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_PEM = serialization.Encoding.PEM


def _key() -> rsa.RSAPrivateKey:
    # 2048 bits keeps generation fast enough for a per-run PKI.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_key(key: rsa.RSAPrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(_PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _builder(subject: str, issuer: x509.Name, public_key: rsa.RSAPublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        # Backdated a little: tolerate clock skew between us and the Go verifier.
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
    )


def make_ca(directory: Path) -> tuple[Path, Path]:
    """Returns (ca.pem, ca.key)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "freshdock sandbox CA")])
    cert = (
        _builder("freshdock sandbox CA", name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    ca_pem, ca_key = directory / "ca.pem", directory / "ca.key"
    ca_pem.write_bytes(cert.public_bytes(_PEM))
    _write_key(key, ca_key)
    return ca_pem, ca_key


def make_server_cert(directory: Path, ca_pem: Path, ca_key: Path) -> tuple[Path, Path]:
    """Returns (server.pem, server.key) valid for IP 127.0.0.1 and DNS localhost, signed by the CA."""
    ca_cert = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    ca_private = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
    assert isinstance(ca_private, rsa.RSAPrivateKey)
    key = _key()
    cert = (
        _builder("127.0.0.1", ca_cert.subject, key.public_key())
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_private, hashes.SHA256())
    )
    pem, key_path = directory / "server.pem", directory / "server.key"
    pem.write_bytes(cert.public_bytes(_PEM))
    _write_key(key, key_path)
    return pem, key_path


def make_signing_cert(directory: Path) -> tuple[Path, Path]:
    """Self-signed token-signing cert: the registry's rootcertbundle trusts exactly this cert."""
    directory.mkdir(parents=True, exist_ok=True)
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "freshdock sandbox token signer")])
    cert = _builder("freshdock sandbox token signer", name, key.public_key()).sign(key, hashes.SHA256())
    pem, key_path = directory / "signing.pem", directory / "signing.key"
    pem.write_bytes(cert.public_bytes(_PEM))
    _write_key(key, key_path)
    return pem, key_path
