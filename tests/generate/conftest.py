"""A deterministic OpenAI-compatible stub on 127.0.0.1: generators and pool models of known quality.

Every behaviour is a function of a hash of the request, so runs are reproducible:

- ``gen-good`` writes valid 4-option questions and always gives the true answer;
- ``gen-noisy`` gives a wrong answer to about half its questions, wraps replies in a
  fenced block and writes one malformed item per set;
- ``gen-broken`` replies with prose, not JSON;
- ``strong`` answers right ~90% of the time with log-probs; ``weak`` ~40%, no log-probs;
- ``flaky`` answers like ``strong`` but first times out, returns HTTP 500 or malformed
  JSON on some questions (then recovers), and always fails on a few.

The true answer of a question is derived from its text, so the stub never keeps state
beyond attempt counters, and tests can check scores against it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

LETTERS = "ABCD"
TIMEOUT_SLEEP_S = 1.0  # longer than the client timeout the tests use (0.25 s)


def h(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:12], 16)


def truth(question_line: str) -> str:
    return LETTERS[h("truth", question_line) % 4]


def _items(model: str, subject: str, batch: str, n: int) -> list[dict]:
    out = []
    for i in range(n):
        q = f"[{subject}] question {batch}.{i}: which option fits case {h(model, subject, batch, str(i)) % 997}?"
        ans = truth(q)
        if model == "gen-noisy" and h("noise", q) % 2 == 0:
            ans = LETTERS[(LETTERS.index(ans) + 1) % 4]
        out.append({"question": q, "options": [f"option {c} of {i}" for c in LETTERS], "answer": ans})
    if model == "gen-noisy":
        out.append({"question": "malformed: three options", "options": ["x", "y", "z"], "answer": "A"})
    return out


class StubState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attempts: dict[str, int] = {}
        self.served: dict[str, int] = {}  # successful (200, valid) responses per request body
        self.answer_delay_s = 0.0  # slows every pool answer (to kill a run midway)

    def attempt(self, key: str) -> int:
        with self.lock:
            self.attempts[key] = self.attempts.get(key, 0) + 1
            return self.attempts[key]

    def ok(self, key: str) -> None:
        with self.lock:
            self.served[key] = self.served.get(key, 0) + 1


def _completion(text: str, logprob: float | None) -> dict:
    choice: dict = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    if logprob is not None:
        choice["logprobs"] = {"content": [{"token": text, "logprob": logprob}]}
    return {"id": "stub", "object": "chat.completion", "choices": [choice],
            "usage": {"prompt_tokens": 20, "completion_tokens": max(1, len(text) // 4)}}


def respond(state: StubState, body: dict) -> tuple[int, str, float]:
    """(status, body text, seconds to sleep first) for a request."""
    model = body.get("model", "")
    messages = body.get("messages", [])
    user = messages[-1]["content"] if messages else ""
    key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    if model.startswith("gen-"):
        if model == "gen-broken":
            return 200, json.dumps(_completion("Sure! Here are some great questions about the topic.", None)), 0.0
        subject = re.search(r"Subject: (.*)", user).group(1)
        batch = re.search(r"question set #(\d+)", user).group(1)
        n = int(re.search(r"Write (\d+) ", user).group(1))
        text = json.dumps({"items": _items(model, subject, batch, n)})
        if model == "gen-noisy":
            text = f"```json\n{text}\n```"
        state.ok(key)
        return 200, json.dumps(_completion(text, None)), 0.0
    question = user.splitlines()[0]
    if state.answer_delay_s:
        time.sleep(state.answer_delay_s)
    right = truth(question)
    p_right = {"strong": 0.9, "flaky": 0.9, "weak": 0.4}.get(model)
    if p_right is None:
        return 404, json.dumps({"error": {"message": f"no model {model}"}}), 0.0
    if model == "flaky":
        mode = h("flaky", question) % 12
        n = state.attempt(key)
        if mode == 0:
            return 500, json.dumps({"error": {"message": "always down for this one"}}), 0.0
        if n == 1 and mode == 1:
            return 200, "", TIMEOUT_SLEEP_S  # the client gives up before this arrives
        if n == 1 and mode == 2:
            return 500, json.dumps({"error": {"message": "internal error"}}), 0.0
        if n == 1 and mode == 3:
            return 200, '{"choices": [{"message": ', 0.0  # truncated JSON
    correct = (h(model, question) % 100) < p_right * 100
    letter = right if correct else LETTERS[(LETTERS.index(right) + 1 + h("wrong", question) % 3) % 4]
    logprob = None if model == "weak" else (-0.05 if correct else -1.2)
    state.ok(key)
    return 200, json.dumps(_completion(letter, logprob)), 0.0


class _Handler(BaseHTTPRequestHandler):
    state: StubState

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        status, text, sleep = respond(self.server.state, body)  # type: ignore[attr-defined]
        if sleep:
            time.sleep(sleep)
        data = text.encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass


class Stub:
    """The stub server, running in a daemon thread until ``close``."""

    def __init__(self) -> None:
        self.state = StubState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.state = self.state  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def stub():
    s = Stub()
    try:
        yield s
    finally:
        s.close()


def write_configs(tmp_path, base_url: str, *, items: int = 6, tasks=("chemistry", "law")) -> tuple[str, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    tasks_toml = tmp_path / "tasks.toml"
    tasks_toml.write_text(
        "[defaults]\nitems = %d\nper_request = 3\n\n" % items
        + "".join(f'[[tasks]]\nname = "{t}"\ndescription = "Graduate-level {t} questions."\n\n' for t in tasks)
    )
    pool_toml = tmp_path / "pool.toml"
    pool_toml.write_text(
        "".join(
            f'[[models]]\nname = "{m}"\nbase_url = "{base_url}"\nprice_in_per_mtok = {p}\nprice_out_per_mtok = {2 * p}\n\n'
            for m, p in (("strong", 5.0), ("weak", 0.5), ("flaky", 1.0))
        )
        + "".join(f'[[generators]]\nname = "{g}"\nbase_url = "{base_url}"\n\n' for g in ("gen-good", "gen-noisy", "gen-broken"))
    )
    return str(tasks_toml), str(pool_toml)
