"""``textgrad-lab init NAME``: write a commented starter workflow file that runs as is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from textgrad_lab.cli._common import handle_errors, stdout, usage_error
from textgrad_lab.cli.starter import STARTER


@handle_errors
def init(
    name: Annotated[str, typer.Argument(help="Name of the workflow file to create (NAME.py).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write NAME.py, a commented starter workflow (a solver whose system prompt is trained).

    Examples:

      textgrad-lab init my_flow && textgrad-lab optimize my_flow.py --steps 2

      textgrad-lab init my_flow && textgrad-lab optimize my_flow.py --model mock
    """
    path = Path(name if name.endswith(".py") else f"{name}.py")
    if not path.stem.isidentifier():
        raise usage_error(
            f"{path.stem!r} is not a valid Python module name",
            "use letters, digits and underscores, e.g. my_flow",
        )
    if path.exists() and not force:
        raise usage_error(f"{path} already exists", "pick another name or add --force")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STARTER.format(name=path.stem), encoding="utf-8")
    out = stdout()
    out.print(f"wrote {path}")
    out.print(f"next: textgrad-lab optimize {path}   (or --model mock for a dry run)")
