# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Typed errors. Each registry failure class maps to exactly one verdict status."""

from __future__ import annotations


class FreshdockError(Exception):
    """Base class: every error this collection raises on purpose."""


class InvalidReference(FreshdockError):
    """An image reference that docker/distribution's grammar rejects."""


class CredentialError(FreshdockError):
    """A credential source (config.json, a credential helper) could not be read."""


class EngineError(FreshdockError):
    """The Docker engine could not be reached or refused a request."""


class RegistryError(FreshdockError):
    """A registry question that got no trustworthy answer. Never means "stale"."""

    status = "error"

    def __init__(self, message: str, registry: str | None = None) -> None:
        super().__init__(message)
        self.registry = registry


class Unreachable(RegistryError):
    status = "unreachable"


class AuthRequired(RegistryError):
    status = "auth_required"


class CredentialsRejected(RegistryError):
    status = "credentials_rejected"


class NotFound(RegistryError):
    status = "not_found"


class RateLimited(RegistryError):
    status = "rate_limited"

    def __init__(self, message: str, registry: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, registry)
        self.retry_after = retry_after


class Unsupported(RegistryError):
    status = "unsupported"


class MalformedResponse(RegistryError):
    status = "error"
