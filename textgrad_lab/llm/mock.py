"""A scriptable engine for offline tests, going through the real middleware.

    MockEngine("42")                                   # always "42"
    MockEngine(["first", "second"])                    # in turn; MockExhausted after
    MockEngine(["a", "b"], cycle=True)                 # in turn, forever
    MockEngine(lambda messages, response_model: ...)   # str | dict | BaseModel
    MockEngine(Answer(value=1))                        # a model instance, as JSON
    MockEngine("x", latency=0.2)                       # asyncio.sleep per request
    MockEngine("x", fail={"rate_limit": 2})            # first 2 requests get 429

`fail` injects failures per raw request (retries and reasks are requests too):
  - a dict {kind: count}: the first requests fail, kinds in the dict's order;
  - a sequence of kind | Exception | None, one per request (then no failures);
  - a callable (request_index, Request) -> kind | Exception | None.
Kinds: "rate_limit" (429 with Retry-After = `retry_after`), "server_error"
(500), "timeout", "connection", "auth" (401), "bad_request" (400) and
"malformed" (a reply that is not the requested JSON).

Usage is a simple estimate (4 characters a token); `cost_per_token` prices
it, to exercise cost accounting and budgets.

Every raw request is recorded in `.calls`; cache hits never reach the mock.
The persistent cache is off by default here (tests stay independent); pass
`cache=True` to exercise it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionLost,
    LLMError,
    LLMTimeout,
    MockExhausted,
    RateLimited,
    ServerError,
)
from textgrad_lab.llm.middleware import estimate_tokens
from textgrad_lab.llm.schema_example import example_from_schema
from textgrad_lab.llm.types import Completion, Message, Request, Usage

Reply = str | dict[str, Any] | list[Any] | BaseModel
Responder = (
    Reply | Sequence[Reply] | Callable[[list[Message], type[BaseModel] | None], Reply] | None
)
Failure = str | BaseException | None
FailSpec = dict[str, int] | Sequence[Failure] | Callable[[int, Request], Failure] | None

MALFORMED_REPLY = 'Sure! Here is the answer: {"answer": '
FAIL_KINDS = (
    "rate_limit",
    "server_error",
    "timeout",
    "connection",
    "auth",
    "bad_request",
    "malformed",
)


@dataclass
class MockCall:
    """One raw request as the mock received it."""

    messages: list[Message]
    response_model: type[BaseModel] | None
    temperature: float
    max_tokens: int | None
    seed: int | None
    extra: dict[str, Any] = field(default_factory=dict)
    json_schema: dict[str, Any] | None = None
    failed: str | None = None


def _as_text(reply: Reply) -> str:
    if isinstance(reply, str):
        return reply
    if isinstance(reply, BaseModel):
        return reply.model_dump_json()
    return json.dumps(reply)


class MockEngine(Engine):
    default_cache: ClassVar[bool] = False
    default_concurrency: ClassVar[int | None] = None

    def __init__(
        self,
        responder: Responder = None,
        latency: float = 0.0,
        fail: FailSpec = None,
        *,
        cycle: bool = False,
        retry_after: float | None = 0.0,
        cost_per_token: float = 0.0,
        model: str = "mock",
        **options: Any,
    ) -> None:
        self.responder = responder
        self.latency = latency
        self.cycle = cycle
        self.retry_after = retry_after
        self.cost_per_token = cost_per_token
        self.calls: list[MockCall] = []
        self._turn = 0
        self._fail = self._normalize_fail(fail)
        super().__init__("mock", model, **options)

    @staticmethod
    def _normalize_fail(fail: FailSpec) -> Callable[[int, Request], Failure]:
        if fail is None:
            return lambda i, req: None
        if callable(fail):
            return fail
        if isinstance(fail, dict):
            seq: list[Failure] = [k for k, n in fail.items() for _ in range(n)]
        else:
            seq = list(fail)
        for f in seq:
            if isinstance(f, str) and f not in FAIL_KINDS:
                raise ValueError(f"unknown mock failure {f!r}; use one of {', '.join(FAIL_KINDS)}")
        return lambda i, req: seq[i] if i < len(seq) else None

    def _engine_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"latency": self.latency} if self.latency else {}
        r = self.responder
        # Only JSON-able responders can travel to another process.
        if isinstance(r, str) or (isinstance(r, list) and all(isinstance(x, str) for x in r)):
            opts["responder"] = r
        if self.cycle:
            opts["cycle"] = True
        if self.cost_per_token:
            opts["cost_per_token"] = self.cost_per_token
        return opts

    def prompt_cost(self, prompt_tokens: int) -> float:
        return prompt_tokens * self.cost_per_token

    def _next_reply(self, req: Request) -> str:
        r = self.responder
        if r is None:
            if req.response_model is not None:
                return json.dumps(example_from_schema(req.response_model.model_json_schema()))
            return "mock reply"
        if isinstance(r, str | dict | BaseModel):
            return _as_text(r)
        if callable(r):
            return _as_text(r(req.messages, req.response_model))
        replies = list(r)
        if self._turn >= len(replies) and (not self.cycle or not replies):
            raise MockExhausted(
                f"MockEngine ran out of replies after {len(replies)} "
                "(pass cycle=True to reuse them in turn)"
            )
        reply = replies[self._turn % len(replies)]
        self._turn += 1
        return _as_text(reply)

    def _raise_failure(self, kind: str) -> None:
        errors: dict[str, LLMError] = {
            "rate_limit": RateLimited(
                "mock: 429 Too Many Requests", status=429, retry_after=self.retry_after
            ),
            "server_error": ServerError("mock: 500 Internal Server Error", status=500),
            "timeout": LLMTimeout("mock: request timed out"),
            "connection": ConnectionLost("mock: connection reset by peer"),
            "auth": AuthenticationFailed("mock: 401 invalid API key", status=401),
            "bad_request": BadRequest("mock: 400 bad request", status=400),
        }
        raise errors[kind]

    async def _acall(self, req: Request) -> Completion:
        index = len(self.calls)
        failure = self._fail(index, req)
        self.calls.append(
            MockCall(
                messages=[dict(m) for m in req.messages],
                response_model=req.response_model,
                temperature=req.temperature,
                max_tokens=req.max_tokens,
                seed=req.seed,
                extra=dict(req.extra),
                json_schema=req.json_schema,
                failed=failure
                if isinstance(failure, str)
                else type(failure).__name__
                if failure
                else None,
            )
        )
        if self.latency:
            await asyncio.sleep(self.latency)
        if isinstance(failure, BaseException):
            raise failure
        if failure == "malformed":
            text = MALFORMED_REPLY
        elif failure:
            self._raise_failure(failure)
            raise AssertionError("unreachable")
        else:
            text = self._next_reply(req)
        prompt, completion = estimate_tokens(req.messages), max(1, len(text) // 4)
        usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=(prompt + completion) * self.cost_per_token,
        )
        return Completion(
            text=text, model=self.model, usage=usage, attempts=1, finish_reason="stop"
        )
