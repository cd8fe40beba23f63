"""The persistent cache: hits, key sensitivity, stability across processes, concurrency."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from pydantic import BaseModel

from textgrad_lab.llm import MockEngine, Request, ResponseCache, cache_key

MSG = [{"role": "user", "content": "Name a colour."}]


class Colour(BaseModel):
    name: str


class Shade(BaseModel):
    name: str
    dark: bool = False


def cached_mock(tmp_path: Path, responder: object = "blue", **kw: object) -> MockEngine:
    return MockEngine(responder, cache=True, cache_dir=str(tmp_path), **kw)


async def test_second_identical_call_is_a_free_hit(tmp_path: Path) -> None:
    engine = cached_mock(tmp_path)
    first = await engine.acomplete(MSG)
    second = await engine.acomplete(MSG)
    assert (first.cached, second.cached) == (False, True)
    assert second.text == first.text == "blue"
    assert second.usage.total_tokens == 0 and second.attempts == 0
    assert len(engine.calls) == 1
    total = engine.usage.total
    assert (total.calls, total.cache_hits, total.provider_calls) == (2, 1, 1)


async def test_structured_hit_is_parsed_again(tmp_path: Path) -> None:
    engine = cached_mock(tmp_path, {"name": "red"})
    await engine.acomplete(MSG, response_model=Colour)
    hit = await engine.acomplete(MSG, response_model=Colour)
    assert hit.cached and hit.parsed == Colour(name="red")


async def test_cache_persists_across_engines(tmp_path: Path) -> None:
    await cached_mock(tmp_path).acomplete(MSG)
    other = cached_mock(tmp_path, "green")
    assert (await other.acomplete(MSG)).text == "blue"
    assert other.calls == []


async def test_cache_switches(tmp_path: Path) -> None:
    off = MockEngine(["a", "b", "c"], cache=False, cache_dir=str(tmp_path))
    assert [(await off.acomplete(MSG)).text for _ in range(2)] == ["a", "b"]
    on = cached_mock(tmp_path, ["x", "y"])
    await on.acomplete(MSG)
    assert (await on.acomplete(MSG, cache=False)).text == "y"  # per-call bypass
    # a per-call cache=True works on an engine whose cache is off
    assert (await off.acomplete(MSG, cache=True)).text == "x"


async def test_failures_are_not_cached(tmp_path: Path) -> None:
    engine = cached_mock(tmp_path, ["not json", "still not", "nope", '{"name": "teal"}'])
    bad = await engine.acomplete(MSG, response_model=Colour)
    assert not bad.ok
    good = await engine.acomplete(MSG, response_model=Colour)
    assert good.ok and not good.cached and good.parsed == Colour(name="teal")


BASE = {"identity": {"name": "mock", "model": "mock"}, "messages": MSG}
VARIANTS = {
    "model": {"identity": {"name": "mock", "model": "other"}},
    "api_base": {"identity": {"name": "mock", "model": "mock", "api_base": "http://h/v1"}},
    "messages": {"messages": [{"role": "user", "content": "Name a color."}]},
    "role": {"messages": [{"role": "system", "content": "Name a colour."}]},
    "temperature": {"temperature": 0.7},
    "max_tokens": {"max_tokens": 10},
    "seed": {"seed": 1},
    "schema": {"response_model": Colour},
    "other schema": {"response_model": Shade},
    "extra": {"extra": {"top_p": 0.5}},
}


def key_for(**changes: object) -> str:
    args: dict = {**BASE, **changes}
    identity = args.pop("identity")
    return cache_key(identity, Request(**args))


def test_each_answer_changing_input_changes_the_key() -> None:
    keys = {name: key_for(**change) for name, change in VARIANTS.items()}
    keys["base"] = key_for()
    assert len(set(keys.values())) == len(keys), keys


def test_key_ignores_what_does_not_change_the_answer() -> None:
    assert key_for() == key_for(cache=False)
    assert key_for(temperature=0) == key_for(temperature=0.0)
    # secrets are never part of the key
    assert key_for() == key_for(identity={**BASE["identity"], "api_key": "sk-secret-123456"})
    assert key_for() == key_for(extra={"api_key": "sk-secret-123456"})


async def test_each_change_misses_the_cache_through_the_engine(tmp_path: Path) -> None:
    engine = cached_mock(tmp_path, lambda m, rm: '{"name": "x"}')
    calls = [
        {},
        {"temperature": 0.5},
        {"max_tokens": 5},
        {"seed": 3},
        {"response_model": Colour},
        {"response_model": Shade},
        {"top_p": 0.1},
    ]
    for kw in calls:
        assert not (await engine.acomplete(MSG, **kw)).cached, kw
    for kw in calls:
        assert (await engine.acomplete(MSG, **kw)).cached, kw
    assert len(engine.calls) == len(calls)
    other_model = MockEngine("x", model="mock-2", cache=True, cache_dir=str(tmp_path))
    assert not (await other_model.acomplete(MSG)).cached


def test_key_is_stable_across_processes() -> None:
    code = textwrap.dedent(
        """
        from textgrad_lab.llm import Request, cache_key
        print(cache_key({"name": "m", "model": "m"},
                        Request(messages=[{"role": "user", "content": "hi"}], seed=1)))
        """
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"},
            cwd=Path(__file__).resolve().parents[2],
        ).stdout.strip()
        for seed in (1, 2)
    }
    local = cache_key(
        {"name": "m", "model": "m"}, Request(messages=[{"role": "user", "content": "hi"}], seed=1)
    )
    assert keys == {local}


def test_several_processes_write_one_cache(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from textgrad_lab.llm import ResponseCache
        store = ResponseCache(sys.argv[1])
        for i in range(40):
            store.set(f"{sys.argv[2]}-{i}", {"text": str(i)})
            assert store.get(f"{sys.argv[2]}-{i}") == {"text": str(i)}
        """
    )
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path), f"p{n}"], cwd=root)
        for n in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    assert len(ResponseCache(tmp_path)) == 160


async def test_many_concurrent_tasks_share_the_cache(tmp_path: Path) -> None:
    import asyncio

    engine = cached_mock(tmp_path, lambda m, rm: m[-1]["content"].upper(), latency=0.001)
    prompts = [[{"role": "user", "content": f"q{i % 10}"}] for i in range(60)]
    first = await asyncio.gather(*(engine.acomplete(p) for p in prompts))
    again = await asyncio.gather(*(engine.acomplete(p) for p in prompts))
    assert [c.text for c in first] == [c.text for c in again]
    assert all(c.cached for c in again)


def test_unreadable_cache_does_not_fail_the_call(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    engine = MockEngine(["ok", "again"], cache=True, cache_dir=str(blocker / "sub"))
    assert engine.complete(MSG).text == "ok"
    assert engine.complete(MSG).text == "again"  # uncached, and no error


async def test_identical_requests_in_flight_make_one_call(tmp_path: Path) -> None:
    import asyncio

    engine = cached_mock(tmp_path, lambda m, rm: m[-1]["content"].upper(), latency=0.05)
    prompts = [[{"role": "user", "content": f"q{i % 3}"}] for i in range(12)]
    replies = await asyncio.gather(*(engine.acomplete(p) for p in prompts))
    assert [c.text for c in replies] == [f"Q{i % 3}" for i in range(12)]
    assert len(engine.calls) == 3  # one model call per distinct prompt
    assert sum(not c.cached for c in replies) == 3
    total = engine.usage.total
    assert (total.calls, total.provider_calls, total.cache_hits) == (12, 3, 9)


async def test_waiters_call_the_model_themselves_when_the_first_call_fails(
    tmp_path: Path,
) -> None:
    import asyncio

    engine = cached_mock(tmp_path, ["not json", "nope", "bad", '{"name": "teal"}'], latency=0.05)
    first, second = await asyncio.gather(
        engine.acomplete(MSG, response_model=Colour), engine.acomplete(MSG, response_model=Colour)
    )
    assert not first.ok  # three replies that do not parse: nothing to share
    assert second.ok and not second.cached and second.parsed == Colour(name="teal")
    assert len(engine.calls) == 4
