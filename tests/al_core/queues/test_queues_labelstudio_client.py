"""The Label Studio HTTP client against a scripted local HTTP server: retries, back-off, errors."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from al_core.queues import LabelStudioClient, LabelStudioError, LabelStudioUnavailable

TOKEN = "f" * 40


class Script:
    """Answers requests in order: (status, body, delay_s); records what came in."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.seen: list[tuple[str, str, str | None]] = []


@pytest.fixture
def server():
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            script.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
            status, payload, delay = script.answers.pop(0) if script.answers else (500, {}, 0)
            time.sleep(delay)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass

        do_GET = do_POST = do_PATCH = do_DELETE = _answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    script.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield script
    httpd.shutdown()
    httpd.server_close()


def client(url, **kwargs):
    sleeps: list[float] = []
    c = LabelStudioClient(url, lambda: TOKEN, sleep=sleeps.append, **kwargs)
    return c, sleeps


def test_retries_503_with_back_off_then_succeeds(server):
    server.answers = [(503, {}, 0), (503, {}, 0), (200, {"ok": 1}, 0)]
    c, sleeps = client(server.url, retries=4, backoff_s=0.5)
    assert c.request("GET", "/api/projects/") == {"ok": 1}
    assert sleeps == [0.5, 1.0]
    assert [s[2] for s in server.seen] == [f"Token {TOKEN}"] * 3


def test_gives_up_in_one_line_without_the_token(server):
    server.answers = [(502, {}, 0)] * 3
    c, sleeps = client(server.url, retries=2)
    with pytest.raises(LabelStudioUnavailable) as info:
        c.request("GET", "/api/tasks/")
    message = str(info.value)
    assert message == (
        f"Label Studio at {server.url} is unavailable: GET /api/tasks/ failed 3 times (HTTP 502)"
    )
    assert sleeps == [1.0, 2.0] and TOKEN not in message


def test_server_down_is_retried_then_reported():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    c, sleeps = client(f"http://127.0.0.1:{port}", retries=1)
    with pytest.raises(LabelStudioUnavailable, match=r"failed 2 times \(ConnectError"):
        c.request("GET", "/api/projects/1/")
    assert sleeps == [1.0]


def test_refused_token_and_other_4xx_are_not_retried(server):
    server.answers = [
        (401, {"detail": "Invalid token."}, 0),
        (400, {"validation_errors": {"x": ["bad"]}}, 0),
    ]
    c, sleeps = client(server.url)
    with pytest.raises(LabelStudioError, match="refused the API token.*Invalid token") as info:
        c.request("GET", "/api/projects/")
    assert not isinstance(info.value, LabelStudioUnavailable) and TOKEN not in str(info.value)
    with pytest.raises(LabelStudioError, match=r"HTTP 400: \{'x': \['bad'\]\}"):
        c.request("PATCH", "/api/projects/1/", json_body={"model_version": "v"})
    assert sleeps == [] and len(server.seen) == 2


def test_a_post_that_timed_out_is_not_sent_twice(server):
    server.answers = [(201, {}, 1.5), (201, {}, 0)]
    c, _ = client(server.url, timeout_s=0.5)
    with pytest.raises(LabelStudioUnavailable, match="may or may not have been applied"):
        c.request("POST", "/api/projects/1/import", json_body=[{"data": {}}])
    time.sleep(1.2)
    assert len(server.seen) == 1
    # A GET that timed out is safe to repeat.
    server.answers = [(200, {"a": 1}, 1.5), (200, {"a": 2}, 0)]
    server.seen.clear()
    assert c.request("GET", "/api/projects/1/") == {"a": 2}
    assert len(server.seen) == 2


def test_personal_access_token_is_exchanged_for_a_bearer_token(server):
    server.answers = [(200, {"access": "acc.ess.tok"}, 0), (200, [], 0)]
    c = LabelStudioClient(server.url, lambda: "aaa.bbb.ccc", sleep=lambda s: None)
    c.request("GET", "/api/users/")
    (post, path, auth, body), (_, _, auth2, _) = server.seen
    assert (post, path, auth) == ("POST", "/api/token/refresh/", None)
    assert json.loads(body) == {"refresh": "aaa.bbb.ccc"}
    assert auth2 == "Bearer acc.ess.tok"


def test_pages_until_404(server):
    server.answers = [
        (200, {"tasks": [{"id": 1}, {"id": 2}]}, 0),
        (200, {"tasks": [{"id": 3}, {"id": 4}]}, 0),
        (404, {"detail": "Invalid page."}, 0),
    ]
    c, _ = client(server.url)
    pages = list(c.pages("/api/tasks/", {"project": 1}, "tasks", page_size=2))
    assert [t["id"] for page in pages for t in page] == [1, 2, 3, 4]
    assert "page=3" in server.seen[-1][1] and "page_size=2" in server.seen[-1][1]
