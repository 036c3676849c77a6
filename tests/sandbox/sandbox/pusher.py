"""A tiny registry API client for pushing test content (blobs and manifests) with the right auth.

Auth follows the registry's challenge: Basic with the registry's credentials, or Bearer with a push
token fetched from the realm the registry names (our token server). TLS trusts the sandbox CA.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urljoin

import requests

from .registry import Registry


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _sep, rest = header.partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', rest))


class PushError(RuntimeError):
    pass


class Pusher:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.session = requests.Session()
        # Without this, REQUESTS_CA_BUNDLE (set on this machine) silently overrides session.verify,
        # and proxy variables could route 127.0.0.1 traffic elsewhere.
        self.session.trust_env = False
        self.session.verify = registry.verify
        self._tokens: dict[str, str] = {}

    def close(self) -> None:
        self.session.close()

    def _authenticate(self, repo: str, challenge: str) -> bool:
        scheme, params = parse_challenge(challenge)
        if scheme == "basic" and self.registry.auth and self.session.auth is None:
            self.session.auth = self.registry.auth
            return True
        if scheme == "bearer" and repo not in self._tokens:
            query = {"service": params.get("service", ""), "scope": f"repository:{repo}:pull,push"}
            resp = self.session.get(params["realm"], params=query, auth=self.registry.auth, timeout=10)
            resp.raise_for_status()
            body = resp.json()
            self._tokens[repo] = body.get("token") or body["access_token"]
            return True
        return False

    def blob_exists(self, repo: str, digest: str) -> bool:
        return self.call("HEAD", repo, f"/v2/{repo}/blobs/{digest}").status_code == 200

    def push_blob(self, repo: str, data: bytes) -> str:
        digest = sha256_digest(data)
        if self.blob_exists(repo, digest):
            return digest
        start = self.call("POST", repo, f"/v2/{repo}/blobs/uploads/")
        _expect(start, 202, f"start upload to {repo}")
        location = urljoin(self.registry.url + "/", start.headers["Location"])
        sep = "&" if "?" in location else "?"
        done = self.call("PUT", repo, f"{location}{sep}digest={digest}", data=data,
                         headers={"Content-Type": "application/octet-stream"})
        _expect(done, 201, f"upload blob {digest} to {repo}")
        return digest

    def push_manifest(self, repo: str, reference: str, data: bytes, media_type: str) -> str:
        digest = sha256_digest(data)
        resp = self.call("PUT", repo, f"/v2/{repo}/manifests/{reference}", data=data,
                         headers={"Content-Type": media_type})
        _expect(resp, 201, f"put manifest {repo}:{reference}")
        announced = resp.headers.get("Docker-Content-Digest")
        if announced and announced != digest:
            raise PushError(f"registry stored {repo}:{reference} as {announced}, we pushed {digest}")
        return digest

    def call(self, method: str, repo: str, url: str, headers: dict[str, str] | None = None,
             data: bytes | None = None) -> requests.Response:
        full = urljoin(self.registry.url + "/", url)
        for attempt in range(2):
            sent = dict(headers or {})
            if repo in self._tokens:
                sent["Authorization"] = f"Bearer {self._tokens[repo]}"
            resp = self.session.request(method, full, headers=sent, data=data, timeout=30)
            if resp.status_code != 401 or attempt or not self._authenticate(
                    repo, resp.headers.get("WWW-Authenticate", "")):
                return resp
        return resp


def _expect(resp: requests.Response, status: int, what: str) -> None:
    if resp.status_code != status:
        raise PushError(f"{what}: HTTP {resp.status_code} {resp.text[:300]}")
