"""Default concurrency follows the batch: a step's samples run side by side, and an
engine behind a server takes every call they have ready."""

from __future__ import annotations

from textgrad_lab.cli.options import RunOptions, call_concurrency, sample_concurrency
from textgrad_lab.cli.training import call_options, make_executor


def test_samples_in_flight_follow_the_batch() -> None:
    assert sample_concurrency(RunOptions(batch_size=16)) == 16
    assert sample_concurrency(RunOptions(batch_size=2)) == 8  # eval and small batches
    assert sample_concurrency(RunOptions(batch_size=16, concurrency=3)) == 3
    assert make_executor(RunOptions(batch_size=16)).concurrency == 16


def test_calls_in_flight_cover_every_sample_s_widest_level() -> None:
    assert call_concurrency(RunOptions(batch_size=16)) == 16 * 16
    assert call_concurrency(RunOptions(batch_size=16, concurrency=5)) == 5
    assert call_options(RunOptions(batch_size=16), "openai/x")["max_concurrency"] == 256
    # In-process engines keep their own bound (the local model runs one call at a time).
    assert "max_concurrency" not in call_options(RunOptions(batch_size=16), "local/smollm2")
    assert call_options(RunOptions(concurrency=2), "mock")["max_concurrency"] == 2
