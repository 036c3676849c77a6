"""A small HTTP/1.1 delay proxy on loopback, in front of a registry AND its token server (benchmarks only).

    python delayproxy.py --registry 127.0.0.1:R --token 127.0.0.1:T --state FILE [--rtt-ms 100]

Listens on two free 127.0.0.1 ports (written to FILE as JSON: registry_port, token_port, control_port):

* registry port -> the registry; token port -> the token server.
* Every request/response round trip costs ``rtt`` extra: half before the request goes upstream, half before
  the response goes back. A *new* client connection costs one more ``rtt`` (the TCP handshake a real
  network would charge) before its first request is served. So a client that reuses connections is
  rewarded exactly as on a real link.
* The registry's ``WWW-Authenticate: Bearer realm="http://127.0.0.1:T/token"`` is rewritten to the token
  *proxy*'s URL, so the token round trip is delayed and counted too (one registry config, one storage, no
  second registry needed; to the client this is indistinguishable from a registry whose realm is remote).
* Every proxied request is counted by kind: ping (/v2/), manifest HEAD/GET, blob, token, other; plus
  connections accepted.

Control (never delayed, never counted) on the control port: ``GET /stats``, ``POST /reset``,
``POST /rtt?ms=N``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
from collections import Counter
from pathlib import Path

HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"}
_MANIFEST = re.compile(r"^/v2/.+/manifests/[^/]+$")
_BLOB = re.compile(r"^/v2/.+/blobs/[^/]+$")


class Proxy:
    def __init__(self, rtt: float) -> None:
        self.rtt = rtt
        self.counts: Counter = Counter()
        self.token_port = 0
        self.token_upstream = ""

    # ------------------------------------------------------------------ classification
    def count(self, side: str, method: str, path: str) -> None:
        path = path.split("?", 1)[0]
        if side == "token":
            self.counts["token"] += 1
        elif path in ("/v2/", "/v2"):
            self.counts["ping"] += 1
        elif _MANIFEST.match(path):
            self.counts[f"manifest_{method.lower()}"] += 1
        elif _BLOB.match(path):
            self.counts["blob"] += 1
        else:
            self.counts["other"] += 1
        self.counts["requests"] += 1

    # ------------------------------------------------------------------ HTTP plumbing
    @staticmethod
    async def read_head(reader: asyncio.StreamReader, prefix: bytes = b"") -> tuple[str, list] | None:
        try:
            raw = prefix + await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = raw.decode("latin-1").split("\r\n")
        headers = []
        for line in lines[1:]:
            if line and ":" in line:
                name, value = line.split(":", 1)
                headers.append((name.strip(), value.strip()))
        return lines[0], headers

    @staticmethod
    def header(headers: list, name: str) -> str | None:
        for key, value in headers:
            if key.lower() == name:
                return value
        return None

    @staticmethod
    async def relay_body(reader, writer, headers: list, no_body: bool) -> bool:
        """Copy a message body; returns False when the body ends with the connection (must close)."""
        if no_body:
            return True
        te = (Proxy.header(headers, "transfer-encoding") or "").lower()
        if "chunked" in te:
            while True:
                size_line = await reader.readuntil(b"\r\n")
                writer.write(size_line)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:  # trailers up to the empty line
                        line = await reader.readuntil(b"\r\n")
                        writer.write(line)
                        if line == b"\r\n":
                            return True
                data = await reader.readexactly(size + 2)
                writer.write(data)
                await writer.drain()
        length = Proxy.header(headers, "content-length")
        if length is not None:
            left = int(length)
            while left > 0:
                data = await reader.read(min(left, 65536))
                if not data:
                    raise ConnectionError("short body")
                writer.write(data)
                left -= len(data)
                await writer.drain()
            return True
        return False

    @staticmethod
    def encode_head(first: str, headers: list) -> bytes:
        out = [first] + [f"{k}: {v}" for k, v in headers] + ["", ""]
        return "\r\n".join(out).encode("latin-1")

    async def serve(self, side: str, upstream: str, reader, writer) -> None:
        host, port = upstream.rsplit(":", 1)
        up_reader = up_writer = None
        first = True
        try:
            # A TLS ClientHello on this plain-HTTP port (clients that try HTTPS first, as the engine and
            # freshdock do for registries they may treat as insecure): answer like Go's net/http does.
            try:
                byte = await reader.readexactly(1)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            if byte == b"\x16":
                await asyncio.sleep(self.rtt * 1.5)
                self.counts["tls_probe"] += 1
                writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
                await writer.drain()
                return
            prefix = byte
            while True:
                head = await self.read_head(reader, prefix)
                prefix = b""
                if head is None:
                    return
                line, headers = head
                method, target, _version = line.split(" ", 2)
                # The handshake RTT of a new connection plus the request's half-RTT.
                await asyncio.sleep(self.rtt * (1.5 if first else 0.5))
                first = False
                self.count(side, method, target)
                if up_writer is None or up_writer.is_closing():
                    up_reader, up_writer = await asyncio.open_connection(host, int(port))
                fwd = [(k, v) for k, v in headers if k.lower() not in HOP]
                fwd.append(("Connection", "keep-alive"))
                up_writer.write(self.encode_head(f"{method} {target} HTTP/1.1", fwd))
                await self.relay_body(reader, up_writer, headers, False if self.header(headers, "content-length")
                                      or self.header(headers, "transfer-encoding") else True)
                await up_writer.drain()
                resp = await self.read_head(up_reader)
                if resp is None:
                    return
                status_line, rheaders = resp
                status = int(status_line.split(" ", 2)[1])
                rheaders = [(k, self.rewrite(k, v)) for k, v in rheaders]
                await asyncio.sleep(self.rtt * 0.5)
                no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
                keep = self.header(rheaders, "content-length") is not None or no_body or \
                    "chunked" in (self.header(rheaders, "transfer-encoding") or "").lower()
                rheaders = [(k, v) for k, v in rheaders if k.lower() not in HOP]
                rheaders.append(("Connection", "keep-alive" if keep else "close"))
                writer.write(self.encode_head(status_line, rheaders))
                complete = await self.relay_body(up_reader, writer, rheaders, no_body)
                if not complete:
                    while True:
                        data = await up_reader.read(65536)
                        if not data:
                            break
                        writer.write(data)
                    await writer.drain()
                    return
                await writer.drain()
                if (self.header(headers, "connection") or "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    w.close()

    def rewrite(self, name: str, value: str) -> str:
        if name.lower() == "www-authenticate" and self.token_upstream:
            return value.replace(f"//{self.token_upstream}/", f"//127.0.0.1:{self.token_port}/")
        return value

    async def control(self, reader, writer) -> None:
        head = await self.read_head(reader)
        if head is None:
            writer.close()
            return
        method, target, _version = head[0].split(" ", 2)
        if target.startswith("/reset"):
            self.counts.clear()
        elif target.startswith("/rtt"):
            self.rtt = float(target.split("ms=", 1)[1]) / 1000.0
        body = json.dumps({"rtt_ms": self.rtt * 1000, "counts": dict(self.counts)}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    return sock


async def main(args: argparse.Namespace) -> None:
    proxy = Proxy(args.rtt_ms / 1000.0)
    proxy.token_upstream = args.token
    socks = {name: _listener() for name in ("registry", "token", "control")}
    proxy.token_port = socks["token"].getsockname()[1]

    def counting(side, upstream):
        async def handle(reader, writer):
            proxy.counts[f"connections_{side}"] += 1
            await proxy.serve(side, upstream, reader, writer)
        return handle

    servers = [
        await asyncio.start_server(counting("registry", args.registry), sock=socks["registry"]),
        await asyncio.start_server(counting("token", args.token), sock=socks["token"]),
        await asyncio.start_server(proxy.control, sock=socks["control"]),
    ]
    state = {f"{name}_port": sock.getsockname()[1] for name, sock in socks.items()}
    tmp = Path(args.state).with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.rename(args.state)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--registry", required=True, help="upstream registry host:port")
    parser.add_argument("--token", required=True, help="upstream token server host:port")
    parser.add_argument("--state", required=True)
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    try:
        asyncio.run(main(parser.parse_args()))
    except KeyboardInterrupt:
        pass
