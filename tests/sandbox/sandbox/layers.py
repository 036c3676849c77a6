"""Deterministic image layers made from busybox-static: same inputs -> byte-identical blobs.

Determinism matters: republishing v1 must give the same digests, and an index may change one
platform's content while another stays byte-identical.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
APPLETS = (
    "sh", "sleep", "true", "false", "cat", "echo", "wget", "nc", "ls", "ps", "kill", "env", "id", "test",
    "[", "printf", "date", "hostname", "touch", "rm", "mkdir", "grep", "head", "tail", "wc", "sed", "tr",
    "cut", "expr", "seq", "timeout", "httpd", "nslookup", "ping", "uname", "pwd", "tee", "stat", "chmod",
    "ln", "cp", "mv", "sync", "init", "nohup", "pidof", "pgrep", "pkill", "top", "free", "df", "du",
)
# A fixed timestamp keeps tar headers (and so digests) independent of when we build.
MTIME = 1_700_000_000
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"


@dataclass(frozen=True)
class Entry:
    path: str  # relative, no leading slash
    kind: str  # "dir" | "file" | "symlink"
    mode: int = 0o755
    data: bytes = b""
    target: str = ""


@dataclass(frozen=True)
class Layer:
    tar: bytes
    blob: bytes  # gzip of tar: what is pushed

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.blob).hexdigest()

    @property
    def diff_id(self) -> str:
        return "sha256:" + hashlib.sha256(self.tar).hexdigest()

    @property
    def size(self) -> int:
        return len(self.blob)


def busybox_entries() -> list[Entry]:
    entries = [Entry("bin", "dir"), Entry("etc", "dir"), Entry("root", "dir", 0o700), Entry("tmp", "dir", 0o1777),
               Entry("bin/busybox", "file", 0o755, BUSYBOX.read_bytes())]
    entries += [Entry(f"bin/{name}", "symlink", 0o777, target="busybox") for name in APPLETS]
    entries += [Entry("etc/passwd", "file", 0o644, PASSWD.encode()), Entry("etc/group", "file", 0o644, GROUP.encode())]
    return entries


def marker_entries(version: str) -> list[Entry]:
    return [Entry("etc", "dir"), Entry("etc/fd-version", "file", 0o644, f"{version}\n".encode())]


def tar_bytes(entries: list[Entry], prefix: str = "") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(prefix + entry.path)
            info.mtime, info.mode, info.uid, info.gid = MTIME, entry.mode, 0, 0
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif entry.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, entry.target
                tar.addfile(info)
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    return out.getvalue()


def make_layer(entries: list[Entry]) -> Layer:
    raw = tar_bytes(entries)
    return Layer(raw, gzip.compress(raw, compresslevel=6, mtime=0))


@functools.lru_cache(maxsize=1)
def busybox_layer() -> Layer:
    return make_layer(busybox_entries())


@functools.lru_cache(maxsize=64)
def marker_layer(version: str) -> Layer:
    return make_layer(marker_entries(version))
