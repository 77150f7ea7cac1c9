"""The shared-data fixture fails loudly under CI and skips locally when the data is missing.

Runs pytest in subprocesses on a throwaway test that uses ``data_dir``, with this
directory's ``conftest.py`` and ``MOOPT_DATA_DIR`` pointing at an empty folder.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _conftest():
    spec = importlib.util.spec_from_file_location("nas_conftest_under_test", HERE / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("value, ci", [("true", True), ("1", True), ("yes", True), ("True", True),
                                       ("false", False), ("0", False), ("", False), ("No", False), (None, False)])
def test_ci_detection(monkeypatch, value, ci):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert _conftest().running_in_ci() is ci


def test_missing_shared_data_errors_under_ci_and_skips_locally(tmp_path):
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # keep the repository's settings out
    (tmp_path / "test_uses_data.py").write_text("def test_needs_data(data_dir):\n    assert data_dir.is_dir()\n")
    missing = tmp_path / "no-data-here"
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    base.update(MOOPT_DATA_DIR=str(missing), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "test_uses_data.py"]
    runs = {name: subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
            for name, env in (("ci", {**base, "CI": "true"}), ("local", base))}
    out = {name: (p.communicate(timeout=300)[0], p.returncode) for name, p in runs.items()}

    text, code = out["ci"]
    assert code == 1, text
    assert "1 error" in text and "ERROR at setup of test_needs_data" in text
    assert str(missing.resolve()) in text and "MOOPT_DATA_DIR" in text and "CI is set" in text

    text, code = out["local"]
    assert code == 0, text
    assert "1 skipped" in text and str(missing.resolve()) in text and "MOOPT_DATA_DIR" in text
