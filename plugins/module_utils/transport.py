# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one HTTP session a run uses, hardened for carrying registry credentials."""

from __future__ import annotations

import email.utils
import time
import traceback

try:
    import requests
    import requests.adapters
    import requests.auth
except ImportError:  # reported by the module with missing_required_lib()
    requests = None
    REQUESTS_IMPORT_ERROR: str | None = traceback.format_exc()
    _AuthBase: type = object
    _Session: type = object
else:
    REQUESTS_IMPORT_ERROR = None
    _AuthBase = requests.auth.AuthBase
    _Session = requests.Session

from ansible_collections.freshdock.core.plugins.module_utils.errors import RegistryError, Unreachable

USER_AGENT = "freshdock.core (Ansible collection)"


class _NoNetrc(_AuthBase):
    """An explicit (empty) auth object: with one set, requests never falls back to ~/.netrc."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


NO_NETRC = _NoNetrc()


class RegistrySession(_Session):
    """requests.Session that keeps proxies/CA settings from the environment but never reads ~/.netrc.

    On redirects requests strips Authorization when the host changes, then re-adds ~/.netrc credentials
    for the new host; the override keeps the stripping and drops the netrc part.
    """

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        headers = prepared_request.headers
        if "Authorization" in headers and self.should_strip_auth(response.request.url, prepared_request.url):
            del headers["Authorization"]


def new_session(pool_size: int) -> RegistrySession:
    session = RegistrySession()
    session.headers["User-Agent"] = USER_AGENT
    adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=max(pool_size, 1), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()[:64]
    if value.isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    return max(0.0, parsed.timestamp() - (now if now is not None else time.time()))


def describe_request_error(exc: requests.RequestException, what: str, registry: str) -> RegistryError:
    """Map a transport failure to a typed error; the message never carries headers (they may hold tokens)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return Unreachable(
            f"TLS handshake with {registry} failed while {what}: {_short(exc)}; "
            "set ca_path for a private CA or insecure: true for a plain-HTTP registry",
            registry,
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return Unreachable(f"{registry} did not answer in time while {what}; raise 'timeout' if it is just slow", registry)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return Unreachable(f"cannot connect to {registry} while {what}: {_short(exc)}", registry)
    return RegistryError(f"request to {registry} failed while {what}: {_short(exc)}", registry)


def _short(exc: Exception) -> str:
    text = str(exc)
    # urllib3 wraps the useful part deep inside; keep the tail, bounded.
    return text[-240:] if len(text) > 240 else text


def header_lines(resp: requests.Response, name: str) -> list:
    """All lines of a header; requests joins repeated headers with ', ', urllib3 keeps them apart."""
    getlist = getattr(getattr(getattr(resp, "raw", None), "headers", None), "getlist", None)
    if callable(getlist):
        lines = getlist(name)
        if lines:
            return list(lines)
    value = resp.headers.get(name)
    return [value] if value else []
