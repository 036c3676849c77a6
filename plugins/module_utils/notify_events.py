# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Notification events and their text, shared by every backend (freshdock's wording, plus the host)."""

from __future__ import annotations

from dataclasses import dataclass

AVAILABLE = "available"
SUCCEEDED = "succeeded"
FAILED = "failed"
EVENTS = (AVAILABLE, SUCCEEDED, FAILED)
# Discord embed colours per event: amber, green, red.
COLOURS = {AVAILABLE: 0xF1C40F, SUCCEEDED: 0x2ECC71, FAILED: 0xE74C3C}
_KEYS = ("event", "container", "host", "image", "digest", "reason", "new_id", "restored_id")


def short(value: str | None, size: int = 12) -> str:
    if not value:
        return "?"
    return value.split(":", 1)[-1][:size]


@dataclass(frozen=True)
class Event:
    event: str
    container: str
    host: str | None = None
    image: str | None = None
    digest: str | None = None
    reason: str | None = None
    new_id: str | None = None
    restored_id: str | None = None

    @classmethod
    def from_dict(cls, data: dict, where: str) -> Event:
        if data.get("event") not in EVENTS:
            raise ValueError(f"{where}.event must be one of {', '.join(EVENTS)}, got {data.get('event')!r}")
        if not data.get("container"):
            raise ValueError(f"{where}.container is required")
        return cls(**{key: (str(data[key]) if data.get(key) is not None else None) for key in _KEYS})

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in _KEYS}

    @property
    def title(self) -> str:
        prefix = f"[{self.host}] " if self.host else ""
        return prefix + {AVAILABLE: "Update available: ", SUCCEEDED: "Updated: ", FAILED: "Update failed: "}[self.event] + self.container

    @property
    def body(self) -> str:
        image = self.image or "its image"
        if self.event == AVAILABLE:
            return (f"A newer image is available for {image} ({short(self.digest)}). "
                    "Not applied — this container is in watch mode.")
        if self.event == SUCCEEDED:
            return f"{self.container} was updated to {image} and passed its health check (new container {short(self.new_id)})."
        return (f"Updating {self.container} to {image} failed: {self.reason or 'the new container was not healthy'}; "
                f"rolled back to the previous container ({short(self.restored_id)}).")


@dataclass(frozen=True)
class Message:
    """What a backend sends: one event, or a summary of several."""

    title: str
    body: str
    event: str  # an event name, or "summary"
    colour: int
    events: tuple

    @classmethod
    def single(cls, event: Event) -> Message:
        return cls(event.title, event.body, event.event, COLOURS[event.event], (event,))

    @classmethod
    def summary(cls, events: list, scope: str | None) -> Message:
        counts = {name: sum(1 for e in events if e.event == name) for name in EVENTS}
        parts = [f"{counts[SUCCEEDED]} updated", f"{counts[FAILED]} rolled back", f"{counts[AVAILABLE]} available"]
        title = f"freshdock{' on ' + scope if scope else ''}: " + ", ".join(parts)
        body = "\n".join(f"- {e.title}: {e.body}" for e in events)
        colour = COLOURS[FAILED] if counts[FAILED] else COLOURS[SUCCEEDED] if counts[SUCCEEDED] else COLOURS[AVAILABLE]
        return cls(title, body, "summary", colour, tuple(events))
