"""The command line's exit conventions for your own scripts (the examples use them).

``sys.exit(run_script(lambda: main(args)))`` runs an async entry point and maps what
goes wrong onto exit codes and one line on stderr, as ``textgrad-lab`` does: 2 for a
setup the user must fix (model, key, data), 1 for a run that failed, 0 otherwise.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from textgrad_lab.llm.errors import ConfigError, LLMError
from textgrad_lab.train.data import DatasetError
from textgrad_lab.train.workflow import WorkflowError

SETUP_ERRORS: tuple[type[BaseException], ...] = (ConfigError, DatasetError, WorkflowError)


def run_script(
    main: Callable[[], Awaitable[Any]],
    *,
    setup_errors: tuple[type[BaseException], ...] = (),
) -> int:
    """Run ``main()`` to completion; return the exit code (see the module docstring).

    ``setup_errors`` adds exception types that mean "fix the setup" for this script,
    e.g. ``FileNotFoundError`` for a file named on its command line.
    """
    try:
        asyncio.run(main())
    except SETUP_ERRORS + setup_errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except LLMError as exc:
        print(f"error: the run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0
