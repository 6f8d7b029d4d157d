"""Parsing, TOML readers and the chat client in isolation (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from routecraft._errors import DataError
from routecraft.generate import AsyncChatClient, ChatError, Endpoint, GenerationTask, parse_answer, parse_generated, read_pool, read_tasks
from routecraft.generate._items import Item

MC = GenerationTask(name="chem", description="chemistry", options=4)
SHORT = GenerationTask(name="arith", description="arithmetic", kind="short")


def test_strict_item_parsing_counts_each_rejection():
    text = json.dumps({"items": [
        {"question": "Q1?", "options": ["a", "b", "c", "d"], "answer": "b"},
        {"question": "Q2?", "options": ["a", "b", "c"], "answer": "A"},
        {"question": "Q3?", "options": ["a", "a", "c", "d"], "answer": "A"},
        {"question": "Q4?", "options": ["a", "b", "c", "d"], "answer": "E"},
        {"question": "", "options": ["a", "b", "c", "d"], "answer": "A"},
        "not an object",
    ]})
    items, rejected = parse_generated("```json\n" + text + "\n```", MC, "g")
    assert [i.answer for i in items] == ["B"]
    assert rejected == {"wrong_option_count": 2, "answer_not_an_option": 1, "no_question": 1, "item_not_object": 1}
    assert parse_generated("Here you go: {", MC, "g") == ([], {"bad_json": 1})
    assert parse_generated('{"questions": []}', MC, "g") == ([], {"no_items_list": 1})
    short, rej = parse_generated(json.dumps([{"question": "2+2?", "answer": "4"}, {"question": "x", "answer": "y" * 101}]), SHORT, "g")
    assert [i.answer for i in short] == ["4"] and rej == {"answer_too_long": 1}


def test_answer_parsing():
    item = Item("g", "chem", "mc", "Q?", ("a", "b", "c", "d"), "B")
    for text, want in [("B", "B"), (" (c) ", "C"), ("Answer: D.", "D"), ("The answer is (A)", "A"), ("a", "A"),
                       ("E", None), ("All of them", None), ("I think the answer is C because", "C")]:
        assert parse_answer(text, item) == want, text
    short = Item("g", "arith", "short", "2+2?", (), "4")
    assert parse_answer("The Answer: 4.\nbecause", short) == "4"
    assert parse_answer("Paris, France", Item("g", "geo", "short", "Capital?", (), "Paris")) == "paris france"
    assert parse_answer("  4. ", short) == "4"


def test_toml_errors_name_file_and_field(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text('[[tasks]]\nname = "a"\ndescription = "d"\nkind = "essay"\n')
    with pytest.raises(DataError, match=r"t.toml.*field 'kind'"):
        read_tasks(p)
    p.write_text("[[tasks]\n")
    with pytest.raises(DataError, match="not valid TOML"):
        read_tasks(p)
    p.write_text('[[models]]\nname = "m"\nbase_url = "localhost:8000"\n')
    with pytest.raises(DataError, match="base_url"):
        read_pool(p)
    p.write_text('[[models]]\nname = "m"\nbase_url = "http://127.0.0.1:1/v1/"\nprice_in_per_mtok = 1\ntimeout_s = 5\n')
    (m,), gens = read_pool(p)  # a server key (timeout_s) is part of the shared schema: accepted
    assert m.base_url == "http://127.0.0.1:1/v1" and m.price_in_per_mtok == 1.0 and gens == []
    p.write_text('[[models]]\nname = "m"\nbase_url = "http://127.0.0.1:1/v1/"\nregion = "eu"\n')
    with pytest.raises(DataError, match=r"models\[1\]\.region.*unknown field"):
        read_pool(p)


def _post(handler, **kw):
    async def go():
        async with AsyncChatClient(transport=httpx.MockTransport(handler), backoff=0.0, **kw) as c:
            return await c.post(Endpoint("m", "http://upstream.test/v1"), {"model": "m", "messages": []})

    return asyncio.run(go())


def _ok(text="A", lps=(-0.5, -1.5)):
    return httpx.Response(200, json={"choices": [{"message": {"content": text}, "logprobs": {"content": [{"logprob": v} for v in lps]}}],
                                     "usage": {"prompt_tokens": 7, "completion_tokens": 2}})


def test_client_retries_5xx_timeouts_and_malformed_then_succeeds():
    calls = []

    def handler(request):
        calls.append(1)
        n = len(calls)
        if n == 1:
            raise httpx.ReadTimeout("slow", request=request)
        if n == 2:
            return httpx.Response(503, json={"error": {"message": "busy"}})
        if n == 3:
            return httpx.Response(200, text="<html>gateway</html>")
        return _ok()

    doc, result = _post(handler, max_retries=3)
    assert len(calls) == 4 and result.text == "A" and result.logprob == pytest.approx(-1.0)
    assert (result.tokens_in, result.tokens_out) == (7.0, 2.0)


def test_client_gives_up_with_reason_and_does_not_retry_4xx():
    calls = []

    def down(request):
        calls.append(1)
        return httpx.Response(500, text="oops")

    with pytest.raises(ChatError, match="gave up after 3 attempts") as exc:
        _post(down, max_retries=2)
    assert exc.value.reason == "http_5xx" and len(calls) == 3
    calls.clear()

    def bad(request):
        calls.append(1)
        return httpx.Response(400, json={"error": {"message": "logprobs not supported"}})

    with pytest.raises(ChatError, match="logprobs not supported") as exc:
        _post(bad, max_retries=2)
    assert exc.value.reason == "http_4xx" and len(calls) == 1
