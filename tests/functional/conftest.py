"""Session fixtures for tests against the real sandbox (private dockerd + registries on 127.0.0.1).

FD_SANDBOX_DIR=<dir of a running `python -m sandbox up`> reuses that sandbox and leaves it running;
otherwise one is started in a temp dir and always torn down at the end of the session.
FD_SANDBOX_ENGINES=N starts N engines (default 3: the fleet tests use three inventory hosts).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_SANDBOX_PATH = str(Path(__file__).resolve().parents[1] / "sandbox")
if _SANDBOX_PATH not in sys.path:
    sys.path.insert(0, _SANDBOX_PATH)

from sandbox.sandbox import STATE, Sandbox  # needs the sys.path entry above


def _reusable(directory: str) -> Sandbox | None:
    if not directory or not (Path(directory) / STATE).exists():
        return None
    existing = Sandbox.load(directory)
    return existing if existing.is_running() else None


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    reused = _reusable(os.environ.get("FD_SANDBOX_DIR", ""))
    if reused is not None:
        yield reused
        return
    engines = int(os.environ.get("FD_SANDBOX_ENGINES", "3"))  # three inventory hosts for the fleet tests
    bed = Sandbox.up(tmp_path_factory.mktemp("sandbox"), engines=engines)
    try:
        yield bed
    finally:
        bed.down()


@pytest.fixture(scope="session")
def docker_client(sandbox: Sandbox) -> Iterator[Any]:
    client = sandbox.client(0)
    try:
        yield client
    finally:
        client.close()
