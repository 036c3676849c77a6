# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Registry authentication: WWW-Authenticate parsing, realm checks and a multi-scope token cache."""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable
from urllib.parse import urlsplit

DEFAULT_TOKEN_LIFETIME = 60.0
# Refresh a token a little before the registry would start refusing it.
_EXPIRY_MARGIN = 5.0
_MAX_HEADER_CHARS = 16384


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower-case: "bearer", "basic", …
    params: dict = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scopes(self) -> list[str]:
        return self.params.get("scope", "").split()

    @property
    def error(self) -> str | None:
        return self.params.get("error")


class _Scanner:
    """Tokenizer for RFC 7235 challenges: tokens, quoted strings (with escapes), '=' and ','."""

    _TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/:")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in self._TOKEN_CHARS:
            self.pos += 1
        return self.text[start:self.pos]

    def token68_tail(self) -> None:
        while self.peek() == "=":
            self.pos += 1

    def quoted(self) -> str:
        self.pos += 1  # opening quote
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == '"':
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        return "".join(out)  # unterminated: keep what there is

    def skip_to_comma(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] != ",":
            if self.text[self.pos] == '"':
                self.quoted()
            else:
                self.pos += 1


def _parse_line(line: str) -> list[Challenge]:
    challenges: list[Challenge] = []
    scan = _Scanner(line)
    current: Challenge | None = None
    while scan.pos < len(line):
        scan.skip_space()
        if scan.peek() == ",":
            scan.pos += 1
            continue
        start = scan.pos
        word = scan.token()
        if not word:
            scan.pos = max(scan.pos, start + 1)
            scan.skip_to_comma()
            continue
        scan.skip_space()
        if scan.peek() == "=" and current is not None:
            scan.pos += 1
            if scan.peek() in ("=", ",", ""):
                scan.token68_tail()  # "Basic abc==": a token68 credential, not a parameter
                scan.skip_to_comma()
                continue
            scan.skip_space()
            value = scan.quoted() if scan.peek() == '"' else scan.token()
            current.params.setdefault(word.lower(), value)
            scan.skip_to_comma()
            continue
        # A bare word starts a new challenge ("Bearer realm=…" or a token68 like "Basic abc==").
        current = Challenge(scheme=word.lower(), params={})
        challenges.append(current)
        if scan.peek() == "=":
            scan.token68_tail()
    return challenges


def parse_www_authenticate(values: Iterable[str]) -> list[Challenge]:
    """Parse every challenge from one or more WWW-Authenticate header values.

    Registries may send several header lines, and requests joins them with ', ', so a single value can
    hold several challenges; quoted values hold commas and spaces (``scope="repository:a:pull,push"``).
    Malformed input yields fewer challenges, never an exception.
    """
    result: list[Challenge] = []
    for value in values:
        if not isinstance(value, str):
            continue
        result.extend(_parse_line(value[:_MAX_HEADER_CHARS]))
    return result


def pick_challenge(challenges: list[Challenge]) -> Challenge | None:
    """Prefer Bearer (scoped tokens) over Basic; unknown schemes are ignored."""
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme and (scheme == "basic" or challenge.realm):
                return challenge
    return None


def _is_loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_of(hostport: str) -> str:
    parsed = urlsplit(f"//{hostport}")
    return parsed.hostname or hostport


def is_loopback(hostport: str) -> bool:
    return _is_loopback_host(host_of(hostport))


def check_realm(realm: str, registry_insecure: bool) -> str | None:
    """Return why credentials must not go to this realm, or None when it is safe.

    The realm is chosen by the registry, so a hostile or misconfigured one could harvest credentials:
    require https unless the registry itself is plain-HTTP by configuration (loopback / insecure), and
    never send them to link-local or cloud-metadata addresses.
    """
    try:
        parsed = urlsplit(realm)
        host = parsed.hostname or ""
    except ValueError:
        return f"token realm {realm!r} is not a valid URL"
    if parsed.scheme not in ("https", "http") or not host:
        return f"token realm {realm!r} is not an http(s) URL"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.is_link_local or address.is_unspecified or address.is_multicast):
        return f"token realm {realm!r} points at a link-local/unspecified address"
    if parsed.scheme == "http" and not (registry_insecure or _is_loopback_host(host)):
        return f"token realm {realm!r} is plain HTTP; credentials are only sent over HTTPS"
    return None


@dataclass
class Token:
    value: str
    scopes: frozenset
    expires_at: float

    def covers(self, scopes: Iterable[str], now: float) -> bool:
        return now < self.expires_at - _EXPIRY_MARGIN and set(scopes) <= self.scopes


def token_lifetime(raw: object) -> float:
    """``expires_in`` is optional (default 60 s); nonsense values fall back to the default."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
        return DEFAULT_TOKEN_LIFETIME
    return float(raw)


class TokenCache:
    """Bearer tokens per (realm, service, credential identity); one token may cover many scopes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[tuple, Token] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, scopes: Iterable[str]) -> Token | None:
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and token.covers(scopes, self._clock()):
                return token
            return None

    def put(self, key: tuple, value: str, scopes: Iterable[str], expires_in: object) -> Token:
        token = Token(value=value, scopes=frozenset(scopes), expires_at=self._clock() + token_lifetime(expires_in))
        with self._lock:
            self._tokens[key] = token
        return token

    def known_scopes(self, key: tuple) -> frozenset:
        with self._lock:
            token = self._tokens.get(key)
            return token.scopes if token else frozenset()
