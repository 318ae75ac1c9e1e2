"""GetCallerIdentity as a presigned GET URL (how Vault and Kubernetes
authenticators prove an AWS identity), and serving over HTTPS."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from pathlib import Path

import boto3
import httpx
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.server import REGION, ROLEGATE, Server, free_port
from tests.trust import role_session


def test_presigned_get_caller_identity(server: Server) -> None:
    sts = server.client("sts")
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=900, HttpMethod="GET"
    )
    r = httpx.get(url)
    assert r.status_code == 200, r.text
    assert "<Arn>arn:aws:iam::123456789012:user/admin</Arn>" in r.text
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    r = httpx.get(tampered)
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text


def test_presigned_with_session_credentials(server: Server) -> None:
    c = role_session(server, "vault-login", "vault")
    url = server.client("sts", creds=c).generate_presigned_url(
        "get_caller_identity", Params={}, HttpMethod="GET"
    )
    r = httpx.get(url)
    assert r.status_code == 200, r.text
    assert "assumed-role/vault-login/vault" in r.text


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cp, kp = tmp / "cert.pem", tmp / "key.pem"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cp, kp


def test_https(tmp_path: Path) -> None:
    srv = Server(tmp_path)
    admin = json.loads(srv.cli("bootstrap", *srv.store_args(), "--json").stdout)
    cert, key = _self_signed(tmp_path)
    port = free_port()
    env = dict(srv.env)
    env.pop("ROLEGATE_TEST_CLOCK_FILE", None)
    proc = subprocess.Popen(
        [
            ROLEGATE,
            "serve",
            "--port",
            str(port),
            *srv.store_args(),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                if (
                    httpx.get(
                        f"https://127.0.0.1:{port}/healthz",
                        verify=__import__("ssl").create_default_context(cafile=str(cert)),
                    ).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        sts = boto3.client(
            "sts",
            endpoint_url=f"https://127.0.0.1:{port}",
            region_name=REGION,
            verify=str(cert),
            aws_access_key_id=admin["access_key_id"],
            aws_secret_access_key=admin["secret_access_key"],
            config=Config(retries={"max_attempts": 1}),
        )
        assert sts.get_caller_identity()["Arn"].endswith(":user/admin")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
