"""Shared fixtures of the NAS adapter tests: one torch thread, the shared data folder."""

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` beside the repository (skips the test when absent)."""
    if not (DATA_DIR / "help_latency" / "nb201_latency_help_27dev.csv").is_file():
        pytest.skip(f"shared NB201 data not found at {DATA_DIR.resolve()} (expected ../shared/data beside the repo)")
    return DATA_DIR


@pytest.fixture(scope="session")
def digits():
    from moopt.adapters.nas.data import load_digits

    return load_digits()
