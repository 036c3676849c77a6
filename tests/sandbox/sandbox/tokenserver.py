"""Docker registry token server (RS256 JWT with x5c), run as `python -m sandbox.tokenserver ...`.

GET /token?service=S&scope=repository:NAME:ACTIONS (repeatable)
  - Basic fduser + right password -> token granting the requested actions
  - wrong credentials             -> 401
  - anonymous                     -> 200 with a token granting nothing, so the registry answers 401
                                     insufficient_scope (what a real registry does for private repos)
The body shape is read per request from a small JSON file (see `write_shape`), default ONLY
`access_token` and no `expires_in`, because that is the shape clients most often mishandle.
Every /token request appends one JSON line to the token log; `read_token_log` parses it for tests.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SHAPES = ("access_token", "token", "both", "full")


@dataclass(frozen=True)
class TokenRequest:
    time: str
    scopes: list[str]
    username: str | None
    status: int
    service: str | None


def read_token_log(path: str | Path) -> list[TokenRequest]:
    entries = []
    for line in Path(path).read_text().splitlines() if Path(path).exists() else []:
        if line.strip():
            raw = json.loads(line)
            entries.append(TokenRequest(raw["time"], raw["scopes"], raw["username"], raw["status"],
                                        raw.get("service")))
    return entries


def write_shape(path: str | Path, shape: str = "access_token", ttl: int = 300,
                expires_in: int | None = None) -> None:
    """Change the response shape of a running token server (takes effect on the next request)."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, not {shape!r}")
    Path(path).write_text(json.dumps({"shape": shape, "ttl": ttl, "expires_in": expires_in}))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Signer:
    def __init__(self, key_path: Path, cert_path: Path, issuer: str) -> None:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        self._key = key
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        self._x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        self._issuer = issuer

    def token(self, subject: str, audience: str, access: list[dict[str, object]], ttl: int) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self._x5c}
        claims = {"iss": self._issuer, "sub": subject, "aud": audience, "exp": now + ttl,
                  "nbf": now - 30, "iat": now, "jti": secrets.token_hex(8), "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


def parse_scope(scope: str) -> dict[str, object] | None:
    """`repository:name:pull,push` -> access entry; None for malformed scopes (ignored, like distribution)."""
    kind, _sep, rest = scope.partition(":")
    name, _sep, actions = rest.rpartition(":")
    if not kind or not name:
        return None
    return {"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self._send(200, {"ok": True})
            return
        if url.path != "/token":
            self._send(404, {"error": "not found"})
            return
        query = parse_qs(url.query)
        scopes = query.get("scope", [])
        service = query.get("service", [None])[0]
        username, ok = self._check_auth()
        if not ok:
            self._log(scopes, username, 401, service)
            self._send(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                       {"WWW-Authenticate": 'Basic realm="fd-test token"'})
            return
        access = [entry for entry in map(parse_scope, scopes) if entry] if username else []
        shape = self.server.shape()
        token = self.server.signer.token(username or "", service or self.server.service, access,
                                         int(shape.get("ttl", 300)))
        self._log(scopes, username, 200, service)
        self._send(200, _body(token, shape))

    def _check_auth(self) -> tuple[str | None, bool]:
        header = self.headers.get("Authorization", "")
        if not header:
            return None, True
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None, False
        try:
            user, _sep, password = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, False
        expected = self.server.users.get(user)
        return user, expected is not None and secrets.compare_digest(expected, password)

    def _log(self, scopes: list[str], username: str | None, status: int, service: str | None) -> None:
        entry = {"time": datetime.datetime.now(datetime.UTC).isoformat(), "scopes": scopes,
                 "username": username, "status": status, "service": service}
        with self.server.log_lock, open(self.server.log_path, "a") as log:
            log.write(json.dumps(entry) + "\n")

    def _send(self, status: int, body: dict[str, object], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _body(token: str, shape: dict[str, object]) -> dict[str, object]:
    kind = shape.get("shape", "access_token")
    if kind == "token":
        return {"token": token}
    if kind == "both":
        return {"token": token, "access_token": token}
    if kind == "full":
        return {"token": token, "access_token": token, "expires_in": shape.get("expires_in") or shape.get("ttl"),
                "issued_at": datetime.datetime.now(datetime.UTC).isoformat()}
    body: dict[str, object] = {"access_token": token}
    if shape.get("expires_in") is not None:
        body["expires_in"] = shape["expires_in"]
    return body


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(("127.0.0.1", args.port), _Handler)
        self.signer = Signer(Path(args.key), Path(args.cert), args.issuer)
        self.users: dict[str, str] = json.loads(Path(args.users).read_text())
        self.service: str = args.service
        self.log_path = Path(args.log)
        self.log_lock = threading.Lock()
        self.shape_path = Path(args.shape_file)

    def shape(self) -> dict[str, object]:
        try:
            return dict(json.loads(self.shape_path.read_text()))
        except (OSError, ValueError):
            return {"shape": "access_token", "ttl": 300, "expires_in": None}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.tokenserver")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--users", required=True, help="JSON file {username: password}")
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--shape-file", required=True)
    args = parser.parse_args(argv)
    server = _Server(args)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
