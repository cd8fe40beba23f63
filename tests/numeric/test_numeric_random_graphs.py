"""Random computation graphs: our sweep against torch.autograd and jax, to 1e-9 in float64.

Each hypothesis example is one generated graph (a seed, a family and a truncation depth),
checked against both backends; 500 examples per run. Hypothesis is derandomized, so CI
checks the same 500 graphs every time.
"""

from __future__ import annotations

import collections
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textgrad_lab.numeric.gradcheck import DEFAULT_TOLERANCE, compare_program
from textgrad_lab.numeric.graphgen import generate_program
from textgrad_lab.numeric.programs import FAMILIES, OpName, Program

pytest.importorskip("torch")
pytest.importorskip("jax")

GRAPHS = 500


@settings(
    max_examples=GRAPHS,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    family=st.sampled_from(FAMILIES),
    depth=st.one_of(st.none(), st.integers(0, 12)),
)
def test_random_graphs_match_torch_and_jax(seed: int, family: str, depth: int | None) -> None:
    prog = generate_program(seed, family=family)  # type: ignore[arg-type]
    prog.depth = depth
    for backend, (err, where) in compare_program(prog, ("torch", "jax")).items():
        assert err <= DEFAULT_TOLERANCE, (
            f"{backend}: {where} off by {err:.3e} on {prog.describe()}; "
            f"replay: Program.model_validate_json({prog.model_dump_json()!r})"
        )


def test_programs_are_reproducible_and_round_trip() -> None:
    a, b = generate_program(123, 4), generate_program(123, 4)
    assert a == b
    assert generate_program(123, 5) != a
    assert Program.model_validate_json(a.model_dump_json()) == a


def test_generated_graphs_cover_what_the_check_needs() -> None:
    """Across 200 seeds: every family and op, fan-out, truncation, broadcasting, batches."""
    ops: collections.Counter[str] = collections.Counter()
    seen: collections.Counter[str] = collections.Counter()
    for i in range(200):
        p = generate_program(99, i)
        seen[p.family] += 1
        n = len(p.leaves)
        uses = collections.Counter(a for s in p.steps for a in s.args)
        for s in p.steps:
            ops[s.op] += 1
            seen["axis"] += s.axis is not None
            seen["same value twice"] += len(s.args) == 2 and s.args[0] == s.args[1]
        seen["truncated"] += p.depth is not None
        seen["a parameter used 5+ times"] += any(
            uses[j] >= 5 for j, leaf in enumerate(p.leaves) if leaf.role == "param"
        )
        seen["long chain (40+ levels)"] += max(p.levels().values()) >= 40
        seen["frozen parameter"] += any(leaf.role == "frozen" for leaf in p.leaves)
        seen["int constant"] += any(leaf.pass_as == "int" for leaf in p.leaves)
        seen["list constant"] += any(leaf.pass_as == "list" for leaf in p.leaves)
        seen["batched array"] += any(len(leaf.shape) == 3 for leaf in p.leaves)
        seen["broadcasting leaves"] += any(
            len({p.leaves[a].shape for a in s.args if a < n}) == 2 for s in p.steps
        )
        seen["step off the output's path"] += any(
            n + j not in p.levels() for j in range(len(p.steps))
        )
    assert set(ops) == set(typing.get_args(OpName))
    for family in FAMILIES:
        assert seen[family] >= 20, seen
    for what in (
        "axis",
        "same value twice",
        "truncated",
        "a parameter used 5+ times",
        "long chain (40+ levels)",
        "frozen parameter",
        "int constant",
        "list constant",
        "batched array",
        "broadcasting leaves",
        "step off the output's path",
    ):
        assert seen[what] >= 5, (what, seen)
