"""Requests sent by hand over a socket: the security tests need exact control of what a
client puts on the wire (a declared length, a chunked body, a forged header)."""

from __future__ import annotations

import json
import re
import socket


def raw_request(port: int, head: str, body_parts=(), timeout: float = 30) -> bytes:
    """Send `head` then the body parts and read the answer, stopping the upload when the
    server answers (or hangs up) before it has read it all."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        try:
            for part in body_parts:
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                head_bytes, _, body = answer.partition(b"\r\n\r\n")
                length = re.search(rb"content-length: (\d+)", head_bytes, re.IGNORECASE)
                if length and len(body) >= int(length.group(1)):
                    break
        except ConnectionResetError:
            pass
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def json_of(answer: bytes) -> dict:
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def chunked(parts: list[bytes]) -> list[bytes]:
    """The parts framed as HTTP/1.1 chunks, with the closing empty chunk."""
    return [b"%x\r\n" % len(p) + p + b"\r\n" for p in parts] + [b"0\r\n\r\n"]
