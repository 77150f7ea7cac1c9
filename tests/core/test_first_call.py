"""No compile delay on the user's path: a first kernel call imports no JIT compiler.

A structural property, not a timing (``benchmarks/bench_first_call.py`` has
the times): in a fresh process, calling each public kernel once imports
neither numba nor scipy, and loads moocore's C library without importing the
``moocore`` package (whose ``__init__`` costs tens of milliseconds).
"""

import json
import subprocess
import sys
import textwrap

import pytest

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import moopt

    rng = np.random.default_rng(0)
    out = {}
    for m in (2, 3, 5):
        for n in (50, 2000):
            F = rng.random((n, m))
            ref = np.full(m, 1.1)
            moopt.hypervolume(F, ref)
            moopt.hv_contributions(F[:300], ref)
            moopt.is_nondominated(F)
            moopt.nondominated_sort(F)
            moopt.pareto_front(F)
            moopt.infer_reference_point(F)
            archive = moopt.ParetoArchive(n_obj=m)
            for row in F[:100]:
                archive.add(row)
            archive.hypervolume(ref)
    out["modules"] = sorted(k for k in sys.modules if k.split(".")[0] in ("numba", "scipy", "moocore", "llvmlite"))
    print(json.dumps(out))
    """
)


def _modules_after_first_calls(env_extra=None):
    import os

    env = dict(os.environ, **(env_extra or {}))
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])["modules"]


def test_first_kernel_calls_import_no_jit_compiler():
    modules = _modules_after_first_calls()
    assert not [m for m in modules if m.split(".")[0] in ("numba", "llvmlite")], modules
    assert not [m for m in modules if m.split(".")[0] == "scipy"], modules
    # only moocore's compiled extension is loaded, not its Python package
    assert "moocore" not in modules and modules, modules
    assert all(m.startswith("moocore._libmoocore") for m in modules), modules


def test_moocore_imported_after_moopt_shares_the_c_library():
    """``import moocore`` after moopt loaded its C library reuses it (one copy, working functions)."""
    pytest.importorskip("moocore")
    script = textwrap.dedent(
        """
        import numpy as np, moopt
        F = np.array([[1.0, 2.0], [2.0, 1.0]])
        a = moopt.hypervolume(F, [3.0, 3.0])
        import sys
        lib = sys.modules["moocore._libmoocore"].lib
        import moocore
        from moocore import _moocore
        assert _moocore.lib is lib
        assert moocore.hypervolume(F, ref=[3.0, 3.0]) == a == 3.0
        print("ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
