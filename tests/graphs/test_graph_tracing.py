"""No global registry (flat memory, graphs freed), and isolation across threads and tasks."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import tracemalloc
import weakref

import pytest

import textgrad_lab as tl


@tl.op
def step(x: float, k: float) -> float:
    return x * k + 1.0


@tl.op
def fail(x: float) -> float:
    raise RuntimeError("always")


@tl.op
async def astep(x: float, k: float) -> float:
    await asyncio.sleep(0)
    return x * k + 1.0


def one_trace(p: tl.Parameter, i: int) -> None:
    with tl.trace() as g:
        y = step(step(p, float(i)), 2.0)
        with contextlib.suppress(tl.OpError):
            fail(y)
    assert len(g) == 4


def test_ten_thousand_traces_hold_memory_flat() -> None:
    p = tl.Parameter(1.0, name="p")
    for i in range(200):  # warm every cache (signatures, linecache, ...) first
        one_trace(p, i)
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(1_000):
            one_trace(p, i)
        gc.collect()
        current_1k, peak_1k = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for i in range(9_000):
            one_trace(p, i)
        gc.collect()
        current_10k, peak_10k = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Nine thousand more traces add nothing that stays: a registry holding even one
    # small object per trace would show here as hundreds of kilobytes.
    assert current_10k - current_1k < 20_000, (current_1k, current_10k)
    assert peak_10k < peak_1k + 20_000, (peak_1k, peak_10k)


def test_graph_is_freed_when_dropped() -> None:
    p = tl.Parameter(1.0, name="p")
    with tl.trace() as g:
        y = step(p, 3.0)
    ref = weakref.ref(g)
    del g
    gc.collect()
    assert ref() is None
    # A node the user kept does not keep its graph alive, and says so when asked.
    assert y.value == 4.0
    with pytest.raises(RuntimeError, match="outlived its graph"):
        _ = y.graph
    assert p.value == 1.0


def test_graph_with_an_error_node_is_freed_when_dropped() -> None:
    with tl.trace() as g, pytest.raises(tl.OpError) as caught:
        fail(1.0)
    ref = weakref.ref(g)
    del g, caught
    gc.collect()
    assert ref() is None


def test_graph_freed_without_the_cycle_collector() -> None:
    gc.disable()
    try:
        with tl.trace() as g:
            step(step(1.0, 2.0), 3.0)
        ref = weakref.ref(g)
        del g
        assert ref() is None  # reference counting alone frees it: no cycles
    finally:
        gc.enable()


def test_threads_each_see_only_their_own_trace() -> None:
    n_threads, n_ops = 8, 200
    barrier = threading.Barrier(n_threads)
    graphs: dict[int, tl.Graph] = {}
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            p = tl.Parameter(float(t), name=f"p{t}")
            with tl.trace(f"thread{t}") as g:
                barrier.wait()
                x = p
                for _ in range(n_ops):
                    x = step(x, 1.0)
                graphs[t] = g
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for t, g in graphs.items():
        assert len(g) == n_ops + 1
        assert [q.name for q in g.parameters()] == [f"p{t}"]
        assert all(n.graph is g for n in g.nodes())
        assert max(n.value for n in g.nodes()) == t + n_ops
    assert tl.current_graph() is None


def test_a_thread_started_inside_a_trace_does_not_record_into_it() -> None:
    results: list[object] = []
    with tl.trace() as g:
        th = threading.Thread(target=lambda: results.append(step(1.0, 2.0)))
        th.start()
        th.join()
    assert results == [3.0]
    assert len(g) == 0


async def test_asyncio_tasks_each_see_only_their_own_trace() -> None:
    async def work(t: int) -> tl.Graph:
        p = tl.Parameter(float(t), name=f"p{t}")
        with tl.trace() as g:
            x = p
            for _ in range(50):
                x = await astep(x, 1.0)
                x = step(x, 1.0)
                await asyncio.sleep(0)  # let the other tasks interleave
        return g

    graphs = await asyncio.gather(*(work(t) for t in range(10)))
    for t, g in enumerate(graphs):
        assert len(g) == 101
        assert [q.name for q in g.parameters()] == [f"p{t}"]
        assert max(n.value for n in g.nodes()) == t + 100
    assert tl.current_graph() is None


async def test_gather_inside_one_trace_records_every_call() -> None:
    q = tl.Parameter(1.0, name="q")
    with tl.trace() as g:
        first = step(q, 1.0)
        outs = await asyncio.gather(*(astep(first, float(k)) for k in range(20)))
        last = step(outs[0], 1.0)
    assert all(o.graph is g for o in outs)
    assert sorted(o.value for o in outs) == sorted(2.0 * k + 1.0 for k in range(20))
    assert len(g) == 1 + 1 + 20 + 1
    assert len(g.consumers_of(first)) == 20
    assert g.inputs_of(last)[0][0] is outs[0]


async def test_ops_in_worker_threads_of_one_trace_all_land_in_it() -> None:
    # asyncio.to_thread copies the context, so these calls record into g from other threads.
    q = tl.Parameter(1.0, name="q")
    with tl.trace() as g:
        outs = await asyncio.gather(*(asyncio.to_thread(step, q, float(k)) for k in range(64)))
    assert all(o.graph is g for o in outs)
    assert len(g) == 65
    assert [n.param for n in g.nodes() if n.param is not None] == [q]
    assert len({n.id for n in g.nodes()}) == 65
