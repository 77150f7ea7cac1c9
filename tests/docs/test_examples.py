"""Every code example of the documentation site runs here, so the docs cannot drift from the code.

The pages are those of ``mkdocs.yml``'s ``nav``. In each page, in order and in one namespace per
page (a page reads as one script), inside a fresh temporary working directory:

* a ```` ```python ```` block is executed;
* a ```` ```pycon ```` block (``>>>`` prompts) is run as a doctest: its printed output must match
  (``...`` matches anything, whitespace is normalized);
* a ```` ```console ```` block is a shell session: every ``$ command`` line runs in ``bash`` with the
  virtual environment's ``bin/`` first on ``PATH``, must exit 0, and the lines under it, when there
  are any, must match its standard output in the same way.

A block of those kinds that cannot run by design (it needs a GPU, downloaded data, a cluster, or
it is a schematic with names the reader supplies) is preceded by ``<!-- not-run: REASON -->``; the
reason is required. Any other fence (``bash``, ``text``, ``toml``, a bare fence) is shown, never
run: use those for commands that start servers or take minutes.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUNNABLE = ("python", "pycon", "console")
NOT_RUN = re.compile(r"^<!--\s*not-run:(?P<reason>.*?)-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# Pages other engineers own whose examples do not run yet, with what is missing. Each is an
# xfail(strict=True): once the page is fixed the test fails until its entry is removed here.
PENDING: dict[str, str] = {}


@dataclass
class Block:
    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    not_run: str | None  # the reason, when marked not-run


def nav_pages() -> list[str]:
    """The Markdown pages of mkdocs.yml's nav, in nav order (paths relative to docs/)."""
    import yaml  # mkdocs' own dependency (the docs extra)

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages: list[str] = []

    def walk(item):
        if isinstance(item, str):
            if item.endswith(".md"):
                pages.append(item)
        elif isinstance(item, list):
            for x in item:
                walk(x)
        elif isinstance(item, dict):
            for x in item.values():
                walk(x)

    walk(config["nav"])
    return pages


def blocks_of(page: str) -> list[Block]:
    """The fenced blocks of a page, indented ones (inside list items) included."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m["indent"], m["fence"], m["lang"].lower()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence) and lines[i].strip().strip(fence[0]) == ""):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        prev = start - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        marker = NOT_RUN.match(lines[prev].strip()) if prev >= 0 else None
        reason = marker["reason"].strip() if marker else None
        out.append(Block(page, start + 1, lang, "\n".join(body) + "\n", reason))
    return out


def _run_python(block: Block, namespace: dict) -> None:
    # padded so that tracebacks name the page and its own line numbers
    code = compile("\n" * block.line + block.code, str(DOCS / block.page), "exec")
    exec(code, namespace)


def _run_pycon(block: Block, namespace: dict) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.code, namespace, f"docs/{block.page}", f"docs/{block.page}", block.line)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    lines: list[str] = []
    runner.run(test, out=lines.append, clear_globs=False)
    if runner.failures:
        raise AssertionError(f"docs/{block.page}:{block.line}: doctest failed\n" + "".join(lines))


def _commands(block: Block) -> list[tuple[str, str]]:
    """``(command, expected output)`` pairs of a console block; a trailing ``\\`` continues a command."""
    pairs: list[tuple[str, list[str]]] = []
    continuing = False
    for line in block.code.splitlines():
        if continuing:
            pairs[-1] = (pairs[-1][0] + "\n" + line, pairs[-1][1])
            continuing = line.endswith("\\")
        elif line.startswith("$ "):
            pairs.append((line[2:], []))
            continuing = line.endswith("\\")
        elif pairs:
            pairs[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"docs/{block.page}:{block.line}: console text before the first `$ ` command")
    return [(cmd, "\n".join(expected).strip("\n")) for cmd, expected in pairs]


def _run_console(block: Block, cwd: Path) -> None:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    for command, expected in _commands(block):
        proc = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=120)
        where = f"docs/{block.page}:{block.line}: `{command}`"
        assert proc.returncode == 0, f"{where} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        if expected:
            got = proc.stdout.strip("\n") + "\n"
            if not CHECKER.check_output(expected + "\n", got, FLAGS):
                raise AssertionError(f"{where}: output differs\nexpected:\n{expected}\ngot:\n{got}")


def _pages() -> list[str]:
    return nav_pages()


@pytest.mark.parametrize("page", _pages())
def test_page_examples_run(page, tmp_path, monkeypatch):
    if page in PENDING:
        pytest.xfail(f"pending in docs/{page}: {PENDING[page]}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a test dependency
        pass
    namespace: dict = {"__name__": "__main__"}  # a page runs as a script
    for block in blocks_of(page):
        if block.lang not in RUNNABLE or block.not_run is not None:
            continue
        if block.lang == "python":
            _run_python(block, namespace)
        elif block.lang == "pycon":
            _run_pycon(block, namespace)
        else:
            _run_console(block, tmp_path)


def test_every_nav_page_exists_and_every_skipped_example_says_why():
    pages = nav_pages()
    assert pages, "mkdocs.yml has no pages in its nav"
    counts = {"run": 0, "not-run": 0}
    for page in pages:
        assert (DOCS / page).is_file(), f"mkdocs.yml's nav names docs/{page}, which does not exist"
        for block in blocks_of(page):
            if block.lang not in RUNNABLE:
                continue
            if block.not_run is None:
                counts["run"] += 1
            else:
                assert block.not_run, f"docs/{page}:{block.line}: `<!-- not-run: -->` needs a reason"
                counts["not-run"] += 1
    assert counts["run"] >= 20, counts


def test_quickstart_and_tutorial_have_runnable_python_and_console_examples():
    for page in ("quickstart.md", "tutorial.md"):
        langs = [b.lang for b in blocks_of(page) if b.not_run is None]
        assert "console" in langs and ("python" in langs or "pycon" in langs), (page, langs)
