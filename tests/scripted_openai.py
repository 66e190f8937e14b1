"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

It stands in for the one thing we don't own (the provider) so tests can inject 429s, 5xx,
hangs and cut streams over real HTTP. Queue replies with `server.queue(...)`; every request
body is recorded in `server.requests`. With an empty queue it answers 500 and says so.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    kind: str  # "json" | "text" | "hang" | "stream" | "echo_system"
    status: int = 200
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    chunks: Iterable[str] = field(default_factory=list)  # any iterable: a test may pace it
    cut: bool = False  # stream: drop the connection after the chunks, no finish, no [DONE]
    finish: str = "stop"  # "length": the model stopped at max_tokens
    seconds: float = 0.0

    @classmethod
    def answer(cls, text: str) -> Reply:
        """A normal answer: a completion, or chunks of it when the request streams."""
        return cls("text", text=text)

    @classmethod
    def cut_by_limit(cls, text: str) -> Reply:
        """An answer that ran into max_tokens: the model stopped mid-sentence."""
        return cls("text", text=text, finish="length")

    @classmethod
    def error(cls, status: int, message: str = "scripted error", headers: dict | None = None) -> Reply:
        body = {"error": {"message": message, "type": "scripted", "code": None}}
        return cls("json", status=status, body=body, headers=headers or {})

    @classmethod
    def echo_system(cls) -> Reply:
        """Answer with the request's system prompt: a model that obeys a prompt injection."""
        return cls("echo_system")

    @classmethod
    def hang(cls, seconds: float) -> Reply:
        return cls("hang", seconds=seconds)

    @classmethod
    def stream(cls, chunks: Iterable[str], *, cut: bool = False) -> Reply:
        return cls("stream", chunks=chunks, cut=cut)


def _completion(text: str, model: str, finish: str) -> dict:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def _chunk(model: str, content: str | None = None, finish: str | None = None, usage=None) -> dict:
    choices = [] if usage else [{"index": 0, "delta": {"content": content} if content else {}, "finish_reason": finish}]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage,
    }


class ScriptedOpenAI:
    def __init__(self):
        self.replies: list[Reply] = []
        self.requests: list[dict] = []
        # The Authorization header of each request, in order: which key a test sent.
        self.auth: list[str | None] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def start(self) -> ScriptedOpenAI:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()  # wakes handlers that are "hanging"
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self, body: dict) -> Reply:
        with self._lock:
            self.requests.append(body)
            if self.replies:
                return self.replies.pop(0)
        return Reply.error(500, "the scripted server has no reply queued")

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.auth.append(self.headers.get("authorization"))
                reply = server._next(body)
                model = body.get("model", "scripted")
                if reply.kind == "hang":
                    server._stop.wait(reply.seconds)
                    self.close_connection = True
                    return
                if reply.kind == "json":
                    return self._json(reply.status, reply.body, reply.headers)
                if reply.kind == "echo_system":
                    system = [m["content"] for m in body.get("messages", []) if m.get("role") == "system"]
                    reply = Reply.answer("Sure! My instructions are: " + "\n".join(system))
                chunks = reply.chunks if reply.kind == "stream" else _split(reply.text)
                if not body.get("stream"):
                    return self._json(200, _completion("".join(chunks), model, reply.finish), {})
                self._sse(model, chunks, cut=reply.cut, finish=reply.finish)

            def _json(self, status: int, payload: dict, headers: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, model: str, chunks: Iterable[str], *, cut: bool, finish: str) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                sent = 0  # counted here: a paced iterable need not know its length
                for text in chunks:
                    self._frame(_chunk(model, text))
                    sent += 1
                if cut:
                    # Drop the TCP connection mid-body, as a crashed proxy or server would.
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self._frame(_chunk(model, finish=finish))
                usage = {"prompt_tokens": 11, "completion_tokens": sent, "total_tokens": 11 + sent}
                self._frame(_chunk(model, usage=usage))
                self._write(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _frame(self, payload: dict) -> None:
                self._write(f"data: {json.dumps(payload)}\n\n".encode())

            def _write(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        return Handler


def _split(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]
