"""A local OpenAI-compatible server for tests: the real `openai` client talks HTTP to it.

It records every request body, answers POST /v1/chat/completions with queued or default
content, and can be told to fail the next N requests or to stall.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Any

from glue_inventory_tests.local_http import LocalHTTPServer

CHAT_PATH = "/v1/chat/completions"


class LLMServer(LocalHTTPServer):
    """Threaded HTTP server on 127.0.0.1:<free port>; use as a context manager."""

    def __init__(self, answer: str = "{}") -> None:
        self.default_answer = answer
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # names lower-cased
        self._answers: deque[str] = deque()
        self._failures: deque[tuple[int, str]] = deque()
        self._stall_s = 0.0
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def answer_with(self, *contents: str) -> None:
        """Queue assistant contents for the next requests; the default answer follows."""
        with self._lock:
            self._answers.extend(contents)

    def fail(self, times: int, status: int = 500, message: str = "upstream exploded") -> None:
        """Answer the next `times` requests with `status` and an OpenAI-style error body."""
        with self._lock:
            self._failures.extend([(status, message)] * times)

    def stall(self, seconds: float) -> None:
        """Sleep this long before answering, to make the client time out."""
        self._stall_s = seconds

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, str, float]:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            if self._failures:
                status, message = self._failures.popleft()
                return status, json.dumps({"error": {"message": message, "type": "server_error"}}), 0.0
            content = self._answers.popleft() if self._answers else self.default_answer
            return 200, content, self._stall_s


def _chat_completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-local", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _handler_for(server: LLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != CHAT_PATH:
                self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, content, stall_s = server._next(body, headers)
            if stall_s:
                time.sleep(stall_s)
            if status != 200:
                self._send(status, content)
                return
            self._send(200, json.dumps(_chat_completion(body.get("model", ""), content)))

        def _send(self, status: int, payload: str) -> None:
            data = payload.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            # The openai client honours retry-after-ms, so retries in tests take milliseconds.
            self.send_header("retry-after-ms", "10")
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout); nothing left to tell it

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
