"""The Trainer drives the agent-network and symbolic optimizers like any other."""

from __future__ import annotations

from agents_testkit import engine, network, prompts_with

from textgrad_lab.optimizers.ann import AgentNetworkOptimizer
from textgrad_lab.optimizers.symbolic import SymbolicOptimizer
from textgrad_lab.programs.symbolic import Pipeline, PromptNode
from textgrad_lab.train.trainer import Trainer


def _example(model):
    from textgrad_lab.llm.schema_example import example_from_schema

    return example_from_schema(model.model_json_schema())


DATA = [{"input": f"What is {i} + {i}?", "target": str(2 * i)} for i in range(4)]


async def test_trainer_drives_the_agent_network_optimizer() -> None:
    eng = engine()
    net = network(eng, (2, 2))
    opt = AgentNetworkOptimizer(net)

    async def workflow(example):
        return await net.aforward(example.input)

    def metric(value, example):
        return 0.0, f"wrong, the answer is {example.target}"

    trainer = Trainer(workflow, optimizer=opt, metric=metric, train=DATA, batch_size=2, max_steps=1)
    result = await trainer.afit()
    assert result.status == "completed"
    # 2 samples x (4 forward + 4 backward) + the step's 1 + U (U = 2 x (2 + 1))
    assert len(eng.calls) == 2 * (4 + 4) + 1 + 6
    [global_prompt] = prompts_with(eng, "Edits you can propose")
    # the global call reads both runs of the minibatch with their feedback
    assert global_prompt.count("Feedback (score 0.0): wrong, the answer is") == 2
    assert trainer.state.history[0].accepted
    assert "a11.role" in trainer.state.history[0].changed


async def test_right_answers_cost_no_backward_call() -> None:
    eng = engine()
    net = network(eng, (2,))
    opt = AgentNetworkOptimizer(net)

    async def workflow(example):
        return await net.aforward(example.input)

    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric=lambda v, e: (1.0, "right"),
        train=DATA,
        batch_size=2,
        max_steps=1,
    )
    await trainer.afit()
    # 2 forwards of 2 agents, no backward call; the step still reads both runs (1 + U = 1 + 3)
    assert len(eng.calls) == 2 * 2 + 4


async def test_trainer_drives_the_symbolic_optimizer() -> None:
    from textgrad_lab.llm import MockEngine
    from textgrad_lab.optimizers.symbolic import PromptUpdate

    def reply(messages, model):
        user = messages[-1]["content"]
        if model is PromptUpdate:
            old = user.split("Current template:\n", 1)[1].split("\n\nFeedback", 1)[0]
            return PromptUpdate(template=old + " Be brief.")
        return None if model is not None else "done"

    eng = MockEngine(lambda m, model: reply(m, model) or _example(model))
    pipe = Pipeline(
        [PromptNode("plan", "Plan {task}"), PromptNode("answer", "Answer {task} using {plan}")],
        "answer",
        engine=eng,
    )
    opt = SymbolicOptimizer(pipe)

    async def workflow(example):
        return await pipe.aforward(example.input)

    trainer = Trainer(
        workflow,
        optimizer=opt,
        metric=lambda v, e: (0.0, "wrong"),
        train=DATA,
        batch_size=1,
        max_steps=1,
    )
    result = await trainer.afit()
    assert result.status == "completed"
    assert "plan.template" in trainer.state.history[0].changed
    assert pipe.node("plan").template.value == "Plan {task} Be brief."
