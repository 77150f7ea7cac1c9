"""MkDocs hook: lets mkdocstrings (griffe) find ``moopt.problems`` and ``moopt.adapters``.

setup.py installs ``problems/`` and ``adapters/`` under the ``moopt`` package (``package_dir``),
which griffe's static analysis cannot follow from the source tree. When mkdocs loads it, this hook
writes ``build/docs-griffe/moopt/``: one symlink per entry of ``moopt/`` plus ``problems`` and
``adapters``, the installed layout; mkdocs.yml points the Python handler's ``paths`` there.
``build/`` is ignored by git.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "build" / "docs-griffe"


def write_layout() -> None:
    package = LAYOUT / "moopt"
    if LAYOUT.exists():
        shutil.rmtree(LAYOUT)  # removes the links, never what they point to
    package.mkdir(parents=True)
    for entry in sorted((ROOT / "moopt").iterdir()):
        if entry.name != "__pycache__":
            os.symlink(entry, package / entry.name)
    os.symlink(ROOT / "problems", package / "problems")
    os.symlink(ROOT / "adapters", package / "adapters")


# At import, while mkdocs reads its configuration: before mkdocstrings resolves its paths.
write_layout()
