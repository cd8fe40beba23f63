"""Capture of unmodified openai / litellm client calls: the real clients, a loopback
OpenAI-compatible server, and calls routed through an engine (a mock, or the server
itself through an engine built for it). The test never patches anything itself."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from llm_testkit import FakeOpenAIServer

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.llm.capture import CAPTURED_OP, CaptureError
from textgrad_lab.llm.litellm_engine import import_litellm
from textgrad_lab.optimizers import TGD

KEY = "sk-test-capture-0123456789"
PROMPT = "Answer briefly."  # a module-level prompt, as user code has it


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    s = FakeOpenAIServer().start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTGRAD_LAB_CACHE_DIR", str(tmp_path / "cache"))


def ask(base_url: str, question: str) -> str:
    """User code, unmodified: the openai client and a prompt built from a global."""
    client = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0)
    reply = client.chat.completions.create(
        model="served-model",
        messages=[{"role": "system", "content": PROMPT}, {"role": "user", "content": question}],
        temperature=0,
    )
    return reply.choices[0].message.content or ""


def test_a_sync_chat_call_goes_to_the_engine_and_back_in_openai_types(
    server: FakeOpenAIServer,
) -> None:
    engine = MockEngine("42")
    with tl.capture("openai", engine=engine):
        client = openai.OpenAI(base_url=server.base_url, api_key=KEY)
        reply = client.chat.completions.create(
            model="served-model", messages=[{"role": "user", "content": "6 * 7?"}], seed=3
        )
    assert type(reply).__name__ == "ChatCompletion" and reply.choices[0].message.content == "42"
    assert server.requests == []  # the server never saw it
    assert engine.calls[0].messages == [{"role": "user", "content": "6 * 7?"}]
    assert engine.calls[0].seed == 3 and engine.usage.total.calls == 1


def test_the_libraries_are_restored_on_exit(server: FakeOpenAIServer) -> None:
    original = openai.resources.chat.completions.Completions.create
    with tl.capture("openai", engine=MockEngine("42")):
        assert openai.resources.chat.completions.Completions.create is not original
        with tl.capture("openai", engine=MockEngine("inner")):
            assert ask(server.base_url, "q") == "inner"
        assert ask(server.base_url, "q") == "42"  # the outer capture still routes
    assert openai.resources.chat.completions.Completions.create is original
    assert ask(server.base_url, "q") == "pong" and len(server.requests) == 1


def test_without_an_engine_the_call_reaches_the_clients_endpoint_through_one(
    server: FakeOpenAIServer,
) -> None:
    with tl.capture("openai") as cap:
        first = ask(server.base_url, "hello")
        again = ask(server.base_url, "hello")  # the engine's cache answers
    assert first == again == "pong"
    assert len(server.requests) == 1
    sent = server.requests[0]
    assert sent["body"]["model"] == "served-model" and sent["auth"] == f"Bearer {KEY}"
    assert cap.usage.total.calls == 2 and cap.usage.total.cache_hits == 1


async def test_async_clients_and_the_responses_api(server: FakeOpenAIServer) -> None:
    engine = MockEngine(["chat reply", "responses reply"])
    with tl.capture("openai", engine=engine):
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key=KEY)
        chat = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
        )
        resp = await client.responses.create(
            model="m", instructions="Be terse.", input="What is 2 + 2?", max_output_tokens=20
        )
        sync_resp = openai.OpenAI(base_url=server.base_url, api_key=KEY)
    assert chat.choices[0].message.content == "chat reply"
    assert resp.output_text == "responses reply"
    assert engine.calls[1].messages == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "What is 2 + 2?"},
    ]
    assert engine.calls[1].max_tokens == 20 and server.requests == []
    del sync_resp


def test_litellm_completion_and_acompletion(server: FakeOpenAIServer) -> None:
    litellm = import_litellm()
    engine = MockEngine(["one", "two"])
    with tl.capture("litellm", engine=engine):
        first = litellm.completion(
            model="openai/x", messages=[{"role": "user", "content": "a"}], api_base=server.base_url
        )
        second = asyncio.run(
            litellm.acompletion(model="openai/x", messages=[{"role": "user", "content": "b"}])
        )
    assert first.choices[0].message.content == "one"
    assert second["choices"][0]["message"]["content"] == "two"
    assert server.requests == []


def test_litellm_through_an_engine_for_its_api_base(server: FakeOpenAIServer) -> None:
    litellm = import_litellm()
    with tl.capture("litellm") as cap:
        reply = litellm.completion(
            model="openai/served",
            messages=[{"role": "user", "content": "ping"}],
            api_base=server.base_url,
            api_key=KEY,
        )
    assert reply.choices[0].message.content == "pong"
    assert len(server.requests) == 1 and cap.usage.total.calls == 1


def test_a_parameter_in_the_messages_links_and_is_optimized(server: FakeOpenAIServer) -> None:
    global PROMPT
    prompt = tl.Parameter(PROMPT, name="prompt", role="system prompt of the assistant")

    def update(messages: list[dict[str, str]], model: object) -> object:
        if model is None:
            return "I think it is 41."
        if "new_value" in model.model_fields:  # type: ignore[attr-defined]
            return {"reasoning": "r", "new_value": "Compute exactly, then answer with the number."}
        return {"needs_change": True, "feedback": "ask for an exact computation"}

    engine = MockEngine(update)
    opt = TGD([prompt], engine=engine)
    with tl.trace(capture=["openai"], engine=engine, params=[prompt]) as g:
        out = ask(server.base_url, "6 * 7?")
    node = g.node_for(out)
    assert node.op is not None and node.op.name == CAPTURED_OP
    assert [n.param for n, _ in g.inputs_of(node)] == [prompt]
    assert "[system]\nAnswer briefly." in node.inputs["messages"]
    opt.backward(node, "Wrong: 6 * 7 is 42.")
    opt.step()
    assert prompt.value == "Compute exactly, then answer with the number."
    PROMPT = prompt.value  # what the user's loop does; the function itself is unchanged
    with tl.trace(capture=["openai"], engine=engine, params=[prompt]) as g:
        ask(server.base_url, "6 * 7?")
    assert engine.calls[-1].messages[0]["content"] == prompt.value
    PROMPT = "Answer briefly."


def test_a_reply_sent_on_to_a_second_call_links_the_two(server: FakeOpenAIServer) -> None:
    engine = MockEngine(["draft answer", "final answer"])
    with tl.trace(capture="openai", engine=engine) as g:
        client = openai.OpenAI(base_url=server.base_url, api_key=KEY)
        draft = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Write a draft."}]
        )
        text = draft.choices[0].message.content
        final = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": f"Improve: {text}"}]
        )
    second = g.node_for(final.choices[0].message.content)
    assert [n.value for n, _ in g.inputs_of(second)] == ["draft answer"]


def test_other_threads_are_not_routed(server: FakeOpenAIServer) -> None:
    seen: list[str] = []
    with tl.capture("openai", engine=MockEngine("mock")):
        worker = threading.Thread(target=lambda: seen.append(ask(server.base_url, "q")))
        worker.start()
        worker.join()
        mine = ask(server.base_url, "q")
    assert (seen, mine) == (["pong"], "mock")


def test_what_cannot_be_routed_is_refused_with_the_fix(server: FakeOpenAIServer) -> None:
    client = openai.OpenAI(base_url=server.base_url, api_key=KEY)
    with tl.capture("openai", engine=MockEngine("x")):
        with pytest.raises(CaptureError, match="stream"):
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "q"}], stream=True
            )
        with pytest.raises(CaptureError, match="image_url"):
            client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            )
    with pytest.raises(ValueError, match="openai, litellm"):
        tl.capture("anthropic")
    with pytest.raises(ValueError, match="capture="), tl.trace(engine=MockEngine("x")):
        pass


def test_an_engine_failure_is_an_error_node_and_counts_in_evaluate(
    server: FakeOpenAIServer,
) -> None:
    engine = MockEngine("4", fail=["bad_request"], max_retries=0)

    def forward(example: tl.train.Example) -> str:
        with tl.capture("openai", engine=engine):
            return ask(server.base_url, example.input)

    data = [{"input": "2 + 2", "target": "4"}, {"input": "1 + 3", "target": "4"}]
    with pytest.raises(tl.train.EvaluationFailed, match="1 of 2") as info:
        tl.evaluate(forward, data, "exact_match", concurrency=1)
    errors = [s["error"] for s in info.value.result.samples if s["error"]]
    assert len(errors) == 1 and "400" in errors[0]
    assert info.value.result.scores[1] == 1.0


def test_the_trainer_trains_unmodified_client_code(server: FakeOpenAIServer) -> None:
    global PROMPT
    prompt = tl.Parameter(PROMPT, name="prompt", role="system prompt of the assistant")

    def reply(messages: list[dict[str, str]], model: object) -> object:
        if model is None:  # the student: right once the prompt asks for digits
            return "42" if "digits" in messages[0]["content"] else "forty-something"
        if "new_value" in model.model_fields:  # type: ignore[attr-defined]
            return {"reasoning": "r", "new_value": "Reply with digits only."}
        return {"needs_change": True, "feedback": "ask for digits"}

    engine = MockEngine(reply)

    def forward(example: tl.train.Example) -> str:
        global PROMPT
        PROMPT = prompt.value  # the application reads the current prompt
        with tl.capture("openai", engine=engine, params=[prompt]):
            return ask(server.base_url, example.input)

    data = [{"input": "6 * 7?", "target": "42"}, {"input": "40 + 2?", "target": "42"}]
    trainer = tl.train.Trainer(
        forward, optimizer=TGD([prompt], engine=engine), metric="numeric", train=data, steps=1
    )
    try:
        trainer.fit()
    finally:
        PROMPT = "Answer briefly."
    assert prompt.value == "Reply with digits only."
    assert server.requests == []
