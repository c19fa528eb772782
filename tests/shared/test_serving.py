"""Serving TLS directly: `<PREFIX>TLS_CERT_FILE` and `<PREFIX>TLS_KEY_FILE` turn a service's
server into an HTTPS one (a deployment without a TLS-terminating proxy)."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from pydantic import ValidationError

from session_api.config import Settings
from shared.serving import serve_app, tls_options

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_a_service_with_a_certificate_serves_https(certificate: tuple[Path, Path]) -> None:
    cert_file, key_file = certificate
    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "tls"}

    trust = ssl.create_default_context(cafile=str(cert_file))
    async with (
        serve_app(app, cert_file=cert_file, key_file=key_file) as url,
        httpx.AsyncClient(base_url=url, verify=trust) as client,
    ):
        response = await client.get("/hello")

    assert url.startswith("https://")
    assert response.json() == {"hello": "tls"}


def test_the_settings_name_both_files(certificate: tuple[Path, Path]) -> None:
    cert_file, key_file = certificate
    settings = Settings(TLS_CERT_FILE=cert_file, TLS_KEY_FILE=key_file)

    assert tls_options(settings.TLS_CERT_FILE, settings.TLS_KEY_FILE) == {
        "ssl_certfile": str(cert_file),
        "ssl_keyfile": str(key_file),
    }
    assert tls_options(None, None) == {}


@pytest.mark.parametrize(
    ("cert", "key", "named"),
    [
        ("cert.pem", None, "set both SESSION_API_TLS_CERT_FILE and SESSION_API_TLS_KEY_FILE"),
        ("cert.pem", "missing.pem", "SESSION_API_TLS_KEY_FILE"),
    ],
)
def test_one_file_alone_or_a_missing_one_is_refused(
    certificate: tuple[Path, Path], cert: str, key: str | None, named: str
) -> None:
    folder = certificate[0].parent
    with pytest.raises(ValidationError, match=named):
        Settings(TLS_CERT_FILE=folder / cert, TLS_KEY_FILE=folder / key if key else None)
