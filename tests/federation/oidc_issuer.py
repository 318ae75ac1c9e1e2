"""A real OIDC issuer on loopback for tests (discovery + JWKS over HTTP).

    with OidcIssuer() as issuer:            # or OidcIssuer().start() / .stop()
        token = issuer.mint({"sub": "alice", "aud": "my-client"})
        issuer.rotate()                     # new RSA key; old kid dropped
        issuer.down = True                  # endpoints answer 503

``issuer.url`` is ``http://127.0.0.1:<port>`` (the ``iss``), and
``issuer.provider_url`` the IAM provider name (no scheme). Because it is
plain HTTP on loopback, verifiers need ``allow_http_loopback=True`` (the
server: ``ROLEGATE_DEV_ALLOW_HTTP_ISSUERS=1``). Tokens are signed with joserfc.

``OidcIssuer(tls=cert)`` (a ``tls_certs.ServerCert``) serves HTTPS instead,
and ``issuer.url`` starts with ``https://``.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.federation.tls_certs import ServerCert

DEFAULT_CLIENT_ID = "rolegate-test-client"
_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


def b64url(data: bytes | dict) -> str:
    """Unpadded base64url of ``data`` (a dict as compact JSON), as in a JWT."""
    if isinstance(data, dict):
        data = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OidcIssuer:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        client_id: str = DEFAULT_CLIENT_ID,
        tls: ServerCert | None = None,
        port: int = 0,
    ) -> None:
        self.host = host
        self.bind_port = port
        self.tls = tls
        self.client_id = client_id
        self.down = False
        self.discovery_hits = 0
        self.jwks_hits = 0
        self._serial = count(1)
        self._lock = threading.Lock()
        self._keys: dict[str, RSAKey | ECKey] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.current_kid = self.add_key("RS256")
        self.add_key("ES256")

    # ------------------------------------------------------------ keys

    def add_key(self, alg: str = "RS256") -> str:
        """Publish a new key for ``alg``'s key type; returns its kid."""
        n = next(self._serial)
        if alg in _CURVES:
            kid = f"ec-{n}"
            key: RSAKey | ECKey = ECKey.generate_key(_CURVES[alg], parameters={"kid": kid})
        else:
            kid = f"rsa-{n}"
            key = RSAKey.generate_key(2048, parameters={"kid": kid})
        with self._lock:
            self._keys[kid] = key
        return kid

    def rotate(self, *, keep_old: bool = False) -> str:
        """Replace the RSA signing key: a new kid, and (by default) the old one dropped."""
        old = self.current_kid
        new = self.add_key("RS256")
        with self._lock:
            if not keep_old:
                self._keys.pop(old, None)
            self.current_kid = new
        return new

    def key(self, kid: str) -> RSAKey | ECKey:
        with self._lock:
            return self._keys[kid]

    def public_pem(self, kid: str | None = None) -> bytes:
        key = self.key(kid or self.current_kid)
        return key.as_pem(private=False)

    def jwks(self) -> dict:
        with self._lock:
            return {"keys": [k.as_dict(private=False, use="sig") for k in self._keys.values()]}

    # ----------------------------------------------------------- tokens

    def mint(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        kid: str | None = None,
        alg: str = "RS256",
        defaults: bool = True,
        header: Mapping[str, Any] | None = None,
        lifetime: int = 300,
    ) -> str:
        """A signed JWT. With ``defaults``, iss/aud/sub/iat/exp are filled in."""
        body: dict[str, Any] = {}
        if defaults:
            now = int(time.time())
            body = {
                "iss": self.url,
                "aud": self.client_id,
                "sub": "alice-subject-0001",
                "iat": now,
                "exp": now + lifetime,
            }
        body.update(claims or {})
        if kid is None:
            if alg in _CURVES:
                with self._lock:
                    kid = next(k for k in reversed(self._keys) if k.startswith("ec-"))
            else:
                kid = self.current_kid
        hdr = {"alg": alg, "kid": kid, "typ": "JWT", **(header or {})}
        return jwt.encode(hdr, body, self.key(kid), algorithms=[alg])

    # ------------------------------------------------------------- HTTP

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the issuer first"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.provider_url}"

    @property
    def provider_url(self) -> str:
        if self.tls and self.port == 443:
            return self.host  # as AWS requires: no port
        return f"{self.host}:{self.port}"

    def start(self) -> OidcIssuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                if issuer.down:
                    self._send(503, {"error": "down"})
                elif self.path == "/.well-known/openid-configuration":
                    issuer.discovery_hits += 1
                    self._send(
                        200,
                        {
                            "issuer": issuer.url,
                            "jwks_uri": issuer.url + "/jwks",
                            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                            "response_types_supported": ["id_token"],
                            "subject_types_supported": ["public"],
                        },
                    )
                elif self.path == "/jwks":
                    issuer.jwks_hits += 1
                    self._send(200, issuer.jwks())
                else:
                    self._send(404, {"error": "not found"})

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer((self.host, self.bind_port), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.cert_file, self.tls.key_file)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown() in tests
            name="oidc-issuer",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OidcIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
