"""Find and remove mounts a dead dockerd left under its private roots."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal (\040 ...).
    return field.encode().decode("unicode_escape")


def mounts_under(*roots: Path) -> list[str]:
    prefixes = [str(root.resolve()) for root in roots]
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = _unescape(line.split()[4])
        if any(point == p or point.startswith(p + "/") for p in prefixes):
            found.append(point)
    return found


def unmount_under(*roots: Path) -> list[str]:
    """Unmount deepest first; lazy unmount as a fallback for busy ones. Returns what is still mounted."""
    for point in sorted(mounts_under(*roots), key=len, reverse=True):
        done = subprocess.run(["umount", point], capture_output=True, check=False)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    return mounts_under(*roots)
