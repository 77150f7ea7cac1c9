"""Fixtures of the core tests."""

import pytest


@pytest.fixture(params=["numba", "numpy"])
def kernel_path(request, monkeypatch):
    """Run a test through moopt's compiled kernels, then through the numpy fallback."""
    from moopt import _kernels

    if request.param == "numpy":
        monkeypatch.setattr(_kernels, "_JITMOD", False)
    elif not _kernels._jit():
        pytest.skip("numba is not installed")
    return request.param
