"""A fast OpenAI-compatible chat model with fixed, known delays, for load benchmarks: every
request gets the same answer, its first chunk after `first_token_s` and each next chunk
`chunk_delay_s` later. Since the model's own time is known, what a benchmark measures above
it is the time Prompteur adds (retrieval, checks, storage, HTTP).

tests/scripted_openai.py answers from a queue, one scripted reply per request, for exact
fault tests; this one answers any number of concurrent requests forever, so the load
generator never runs it dry. A thread per connection: 200 streaming conversations are 200
threads mostly asleep."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Grounded in tests/fixtures/shop_help.md (the numbers are the document's), so the answer
# guard keeps it; two sentences, so a stream shows text before the whole answer is written.
ANSWER = (
    "Unused items can be returned within 30 days of delivery for a full refund [1]. "
    "Refunds are paid back to the original payment method within 5 business days [1]."
)


class SteadyModel:
    def __init__(self, first_token_s: float = 0.05, chunk_delay_s: float = 0.01, answer: str = ANSWER):
        words = answer.split(" ")
        self.chunks = [w if i == 0 else " " + w for i, w in enumerate(words)]
        self.first_token_s = first_token_s
        self.chunk_delay_s = chunk_delay_s
        self.requests = 0
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._httpd.request_queue_size = 1024  # 200 conversations connect at once
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def answer_s(self) -> float:
        """The model's own time for a whole streamed answer."""
        return self.first_token_s + (len(self.chunks) - 1) * self.chunk_delay_s

    def start(self) -> SteadyModel:
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self):
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                with model._lock:
                    model.requests += 1
                name = body.get("model", "steady")
                if not body.get("stream"):
                    time.sleep(model.answer_s)
                    return self._json(_completion("".join(model.chunks), name))
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                time.sleep(model.first_token_s)
                for i, text in enumerate(model.chunks):
                    if i:
                        time.sleep(model.chunk_delay_s)
                    self._frame(_chunk(name, {"content": text}, None))
                self._frame(_chunk(name, {}, "stop"))
                usage = {"prompt_tokens": 300, "completion_tokens": len(model.chunks)}
                self._frame({**_chunk(name, {}, None), "choices": [], "usage": usage})
                self._write(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _json(self, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _frame(self, payload: dict) -> None:
                self._write(f"data: {json.dumps(payload)}\n\n".encode())

            def _write(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A client's HTTP pool closing an idle keep-alive connection resets it while the
        # handler waits for the next request: normal, not worth a traceback per connection.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _chunk(model: str, delta: dict, finish: str | None) -> dict:
    return {
        "id": "chatcmpl-steady",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(text: str, model: str) -> dict:
    return {
        "id": "chatcmpl-steady",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 300, "completion_tokens": 20, "total_tokens": 320},
    }
