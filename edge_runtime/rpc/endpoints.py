"""What the RPC servers offer, asked in plain Python: llama.cpp aborts its process when a server is down,
so the runtime probes a server (TCP connect, HELLO, device count, device memory) before any load.

A ggml RPC server serves one client at a time; a server that accepts but does not answer HELLO is busy
with another client (an expert of another runtime, or one of ours on the same endpoint).
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.errors import ConfigError, EdgeRuntimeError

PROTO_MAJOR = 7  # RPC_PROTO_MAJOR_VERSION of the vendored ggml-rpc.h; a server of another major is refused
_HELLO, _GET_DEVICE_MEMORY, _DEVICE_COUNT = 14, 11, 15  # enum rpc_cmd
_CAPS = 24  # RPC_CONN_CAPS_SIZE: all zero, plain TCP
PROBE_TIMEOUT_S = 3.0
RETRY_AFTER_S = 5.0  # a server found down is not probed again sooner (a dead host costs a connect timeout)


class RemoteUnavailable(EdgeRuntimeError):
    """An RPC server that cannot serve: down, busy, of another protocol version, or dead mid-call."""


def parse_endpoint(text: str) -> tuple[str, int]:
    """'host:port' (IPv6 as '[::1]:50052') -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"RPC endpoint {text!r} is not host:port", "write e.g. \"192.168.1.20:50052\"")
    return host.strip("[]"), int(port)


@dataclass
class RemoteDevice:
    endpoint: str
    index: int  # the device's number on its server
    free: int
    total: int


def _call(sock: socket.socket, cmd: int, payload: bytes, reply: int) -> bytes:
    """One RPC command: | cmd u8 | size u64 | payload | -> | size u64 | reply |."""
    sock.sendall(struct.pack("<BQ", cmd, len(payload)) + payload)
    head = _recv(sock, 8)
    if struct.unpack("<Q", head)[0] != reply:
        raise RemoteUnavailable("malformed reply")
    return _recv(sock, reply)


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise RemoteUnavailable("the server closed the connection")
        data += chunk
    return data


def probe(endpoint: str, timeout: float = PROBE_TIMEOUT_S) -> list[RemoteDevice]:
    """The server's devices and memory, or RemoteUnavailable saying why not. Never touches llama.cpp."""
    host, port = parse_endpoint(endpoint)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            major = _call(sock, _HELLO, bytes(_CAPS), 4 + _CAPS)[0]
            if major != PROTO_MAJOR:
                raise RemoteUnavailable(f"RPC server {endpoint} speaks protocol v{major}, this build v{PROTO_MAJOR}",
                                        "run `edge-runtime rpc-serve` from the same edge-runtime version on both")
            count = struct.unpack("<I", _call(sock, _DEVICE_COUNT, b"", 4))[0]
            return [RemoteDevice(endpoint, i, *struct.unpack("<QQ", _call(sock, _GET_DEVICE_MEMORY,
                                                                         struct.pack("<I", i), 16)))
                    for i in range(count)]
    except socket.timeout:
        raise RemoteUnavailable(f"RPC server {endpoint} did not answer within {timeout:.0f}s",
                                "it is busy with another client (one client at a time) or unreachable") from None
    except OSError as exc:
        raise RemoteUnavailable(f"RPC server {endpoint} is unreachable ({exc.strerror or exc})",
                                f"start it there: edge-runtime rpc-serve --port {port}") from None


@dataclass
class EndpointState:
    state: str = "unknown"  # up | down | in use
    detail: str = ""
    devices: list[RemoteDevice] = field(default_factory=list)
    checked: float = 0.0
    user: str = ""  # the expert whose worker holds the connection


class Endpoints:
    """The last known state of every RPC server the runtime has used: what /health shows."""

    def __init__(self) -> None:
        self._states: dict[str, EndpointState] = {}
        self._lock = threading.Lock()

    def check(self, endpoints: list[str]) -> list[RemoteDevice]:
        """Every endpoint's devices, probed now; RemoteUnavailable names the first that cannot serve."""
        devices: list[RemoteDevice] = []
        for endpoint in endpoints:
            st = self._get(endpoint)
            if st.state == "down" and time.monotonic() - st.checked < RETRY_AFTER_S:
                raise RemoteUnavailable(st.detail, f"probed {time.monotonic() - st.checked:.1f}s ago; "
                                                   f"retried after {RETRY_AFTER_S:.0f}s")
            try:
                found = probe(endpoint)
            except RemoteUnavailable as exc:
                self._set(endpoint, EndpointState("down", exc.message, [], time.monotonic()))
                raise
            self._set(endpoint, EndpointState("up", "", found, time.monotonic()))
            devices += found
        return devices

    def held(self, endpoints: list[str], user: str | None, detail: str = "") -> None:
        """A worker connected (user) or let go (None; `detail` says why when it died)."""
        for endpoint in endpoints:
            st = self._get(endpoint)
            state = "in use" if user else ("down" if detail else "up")
            self._set(endpoint, EndpointState(state, detail, st.devices, time.monotonic(), user or ""))

    def _get(self, endpoint: str) -> EndpointState:
        with self._lock:
            return self._states.get(endpoint, EndpointState())

    def _set(self, endpoint: str, state: EndpointState) -> None:
        with self._lock:
            self._states[endpoint] = state

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {ep: {"state": st.state, "detail": st.detail, "expert": st.user or None,
                         "devices": [{"index": d.index, "free_bytes": d.free, "total_bytes": d.total}
                                     for d in st.devices]}
                    for ep, st in self._states.items()}
