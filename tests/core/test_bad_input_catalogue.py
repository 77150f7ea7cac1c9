"""A catalogue of bad inputs: each gets a clear error that names the problem and the fix.

Every case runs through the CLI (``main([...])`` returns the exit code: 2 for bad input, before
any file is written) and/or the API (the exception type).  Add a case here whenever a bad input
is found that gave a traceback, a wrong answer, or a message in a library's words.
"""

from __future__ import annotations

import pytest

from moopt.cli import main

pytest.importorskip("moopt.problems")


def _cli(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


# ------------------------------------------------------------------ problem parameters
@pytest.mark.parametrize("spec,shown", [
    ("dtlz4:m=3,alpha=-1", "alpha (the density bias of theta = x^alpha pi/2; 100 is usual) must be a finite "
                           "number > 0, got -1; e.g. 'dtlz4:m=3,alpha=100'"),
    ("dtlz2:m=2.5", "m (number of objectives, n_obj) must be an integer from 2 to 100, got 2.5"),
    ("zdt1:n_var=abc", "n_var (number of variables) must be an integer from 2 to 10000, got 'abc'"),
    ("knapsack:n_choices=1e9", "n_choices (options per decision) must be an integer from 2 to 1000"),
    ("synthetic-nas:instance=-1", "instance (instance seed) must be an integer from 0"),
    ("dtlz2:q=3", "does not take options ['q']; it accepts ['n_obj', 'n_var', 'k']"),
])
def test_run_with_a_bad_problem_parameter_exits_2_before_writing(tmp_path, capsys, spec, shown):
    out = tmp_path / "X.db"
    code, err = _cli(capsys, "run", "--problem", spec, "--budget", 5, "--out", out)
    assert code == 2 and shown in err, err
    assert err.startswith("Error: ") and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
