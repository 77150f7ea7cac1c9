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


# ------------------------------------------------------------------ moopt bench
@pytest.mark.parametrize("extra,shown", [
    (["--seeds", "-1"], "the number of seeds must be >= 1, got -1; give a count (5 runs seeds 0..4) or a "
                        "comma-separated list"),
    (["--seeds", "3,-1"], "a seed must be an integer >= 0, got -1"),
    (["--seeds", "1,1"], "distinct"),
    (["-o", "random.foo=1"], "random does not take option 'foo' (-o random.foo=...); it accepts no options"),
    (["-o", "nsga2.pop_size=abc"], "option nsga2.pop_size must be an integer >= 1, got 'abc'; "
                                   "e.g. -o nsga2.pop_size=50"),
    (["-o", "nsga2.pop_size=-5"], "option nsga2.pop_size must be an integer >= 1, got -5"),
    (["-o", "moead.n_neighbors=1"], "options given for algorithms not in the grid: ['moead']"),
    (["-o", "nsga2pop=3"], "write ALGORITHM.KEY=VALUE, e.g. nsga2.pop_size=50"),
    (["--algorithms", "nsgaX"], "unknown algorithm 'nsgaX'; choose one of ["),
    (["--problems", "zdt9"], "unknown problem 'zdt9'; choose one of ["),
    (["--problems", "dtlz4:alpha=-1"], "alpha (the density bias"),
])
def test_bench_configuration_errors_exit_2_before_any_run(tmp_path, capsys, extra, shown):
    out = tmp_path / "b"
    base = ["bench", "--problems", "zdt1", "--algorithms", "random,nsga2", "--seeds", "1", "--budget", "5",
            "--out", out, "-q", "--no-plots"]
    code, err = _cli(capsys, *base, *extra)
    assert code == 2 and shown in err, err
    assert not out.exists()


def test_bench_output_folder_that_is_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    code, err = _cli(capsys, "bench", "--problems", "zdt1", "--algorithms", "random", "--seeds", 1, "--budget", 5,
                     "--out", tmp_path / "f", "-q", "--no-plots")
    assert code == 2 and "is a file" in err
    code, err = _cli(capsys, "bench", "--problems", "zdt1", "--algorithms", "random", "--seeds", 1, "--budget", 5,
                     "--out", tmp_path / "f" / "sub", "-q", "--no-plots")
    assert code == 2 and "cannot create the output folder" in err and "choose another folder (--out)" in err


# ------------------------------------------------------------------ Ctrl-C
def test_ctrl_c_exits_130_with_the_resume_message_and_the_same_command_resumes(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import moopt

    store = tmp_path / "X.db"
    cmd = [sys.executable, "-m", "moopt", "run", "--problem", "zdt1", "--algorithm", "random", "--seed", "0",
           "--out", str(store)]
    proc = subprocess.Popen(cmd + ["--budget", "100000000"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (store.exists() and store.stat().st_size > 0):
            time.sleep(0.2)
        time.sleep(2.0)  # some evaluations in the store
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Interrupted. The run store keeps every finished evaluation; re-run the same command to resume" in err
    assert "Aborted." not in err and "Traceback" not in err
    n = moopt.RunResult.load(str(store)).n_results
    assert n > 0
    done = subprocess.run(cmd + ["--budget", str(n + 20)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert moopt.RunResult.load(str(store)).n_results == n + 20


def test_an_abort_that_is_not_ctrl_c_still_exits_1(capsys, monkeypatch):
    import click

    from moopt import cli

    def abort(*a, **k):
        raise click.exceptions.Abort()

    monkeypatch.setattr(cli.cli, "main", abort)
    assert cli.main(["show", "x"]) == 1
    assert "Aborted." in capsys.readouterr().err


# ------------------------------------------------------------------ files from other people (data, never code)
def test_latency_table_with_entries_as_a_list_names_the_file_and_the_form(tmp_path):
    import json

    pytest.importorskip("torch")
    from moopt.adapters.nas.devices import LUT_FORMAT, LatencyTable

    lut = tmp_path / "lut.json"
    lut.write_text(json.dumps({"format": LUT_FORMAT, "name": "phone", "input_shape": [3, 32, 32], "num_classes": 10,
                               "config": {}, "entries": [{"ms": 1.0}]}))
    with pytest.raises(ValueError) as err:
        LatencyTable.load(lut)
    assert str(err.value).startswith(f"latency table 'phone' ({lut}): entries is a JSON array; it must be a JSON "
                                     'object mapping each layer key to {"ms": median, "iqr_ms": spread, "min_ms"')


def test_cifar10_batch_with_a_pickle_payload_is_refused_and_never_runs(tmp_path):
    import pickle

    np = pytest.importorskip("numpy")
    pytest.importorskip("torch")
    from moopt.adapters.nas.data import load_dataset

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]:
        (base / name).write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}))
    (base / "data_batch_1").write_bytes(pickle.dumps({"data": Payload(), "labels": [0, 1]}))
    with pytest.raises(ValueError, match=r"data_batch_1 is refused: it names the forbidden global \w+\.system"):
        load_dataset("cifar10", root=tmp_path, verify=False)
    assert not marker.exists()


# ------------------------------------------------------------------ the engine's input (optimize, moopt run)
def _line_problem(evaluate=None):
    import moopt

    return moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"],
                         evaluate or (lambda q: {"f1": q["x"], "f2": 1 - q["x"]}), name="line")


def test_timeout_inf_means_no_limit_cli_and_api(tmp_path, capsys):
    import moopt

    out = tmp_path / "X.db"
    code, err = _cli(capsys, "run", "--problem", "zdt1", "--algorithm", "random", "--budget", 5, "--timeout", "inf",
                     "--out", out)
    assert code == 0, err
    res = moopt.RunResult.load(str(out))
    assert res.counts["failed"] == 0 and res.counts["ok"] == 5
    res = moopt.optimize(_line_problem(), "random", budget=5, seed=0, timeout=float("inf"))
    assert res.counts["failed"] == 0 and res.n_paid == 5


@pytest.mark.parametrize("timeout,exc,shown", [
    (1e12, ValueError, "timeout=1e+12 s is beyond the longest time limit moopt can set (1e+09 s, about 31 years"),
    (float("nan"), ValueError, "timeout must be a positive number of seconds, or None (or inf) for no limit"),
    (-1, ValueError, "timeout must be a positive number of seconds, or None (or inf) for no limit; got -1"),
    ("5", TypeError, "timeout must be a number of seconds (or None for no limit), got '5' (str); e.g. timeout=60"),
    (True, TypeError, "timeout must be a number of seconds"),
])
def test_timeout_beyond_the_limit_or_not_a_number_is_refused_naming_the_fix(tmp_path, timeout, exc, shown):
    import moopt

    with pytest.raises(exc) as err:
        moopt.optimize(_line_problem(), "random", budget=5, seed=0, timeout=timeout, store=tmp_path / "X.db")
    assert shown in str(err.value), err.value
    assert not (tmp_path / "X.db").exists()


def test_timeout_beyond_the_limit_exits_2_on_the_cli(tmp_path, capsys):
    code, err = _cli(capsys, "run", "--problem", "zdt1", "--algorithm", "random", "--budget", 5, "--timeout", "1e12",
                     "--out", tmp_path / "X.db")
    assert code == 2 and "is beyond the longest time limit moopt can set" in err and "--timeout inf" in err, err


def test_resume_with_a_budget_below_what_was_spent_is_refused_and_keeps_the_stored_budget(tmp_path, capsys):
    import moopt

    out = tmp_path / "X.db"
    assert _cli(capsys, "run", "--problem", "zdt1", "--algorithm", "random", "--budget", 30, "--out", out)[0] == 0
    code, err = _cli(capsys, "run", "--problem", "zdt1", "--algorithm", "random", "--budget", 10, "--out", out)
    assert code == 2, err
    assert (f"the run in {out} already spent 30 paid evaluations, more than budget=10; pass budget=30 or more "
            "(CLI: --budget 30) to continue it, or use another store (CLI: --out) for a new run.") in err
    res = moopt.RunResult.load(str(out))
    assert res.config["extra"]["budget"] == 30 and res.n_paid == 30
    p = _line_problem()
    moopt.optimize(p, "random", budget=8, seed=0, store=tmp_path / "Y.db")
    with pytest.raises(moopt.errors.ConfigError, match=r"already spent 8 paid evaluations.*pass budget=8 or more"):
        moopt.optimize(p, "random", budget=3, seed=0, store=tmp_path / "Y.db")
    assert moopt.RunResult.load(str(tmp_path / "Y.db")).config["extra"]["budget"] == 8


@pytest.mark.parametrize("returned,shown", [
    ({"f1": "0.5", "f2": 1.0}, "evaluate returned f1='0.5', a string, not a number; return 'f1' as a real number"),
    ({"f1": True, "f2": 1.0}, "evaluate returned f1=True, a bool, not a number; return 'f1' as a real number"),
    ({"f1": None, "f2": 1.0}, "evaluate returned f1=None, not a number; return 'f1' as a real number (int or float), "
                              "or raise an exception"),
    ({"f1": float("nan"), "f2": 1.0}, "f1=nan; objective 'f1' must be a finite number. Return a finite value, or "
                                      "raise an exception"),
    ({"f1": float("inf"), "f2": 1.0}, "objective 'f1' must be a finite number"),
    ({"f1": 0.5, "f_2": 1.0}, "evaluate returned no value for ['f2'] (it returned 'f_2': a misspelt 'f2'?); it must "
                              "return a dict with every objective ['f1', 'f2']"),
    ([0.5, 1.0], "evaluate must return a dict {name: value} with every objective ['f1', 'f2'], got a list of 2 "
                 "values; return e.g. {'f1': ..., 'f2': ...} (values in the objectives' order: dict(zip(names, "
                 "values)))"),
    ((0.5, 1.0), "got a tuple of 2 values"),
    ("np.array", "got a ndarray of shape (2,)"),
    ({"f1": "np.array1", "f2": 1.0}, "evaluate returned f1 as a ndarray of shape (1,), not a number; return 'f1' as "
                                     "a real number (int or float), e.g. value.item()"),
])
def test_evaluate_returning_a_non_number_is_a_failed_evaluation_naming_the_objective_and_the_fix(returned, shown):
    import numpy as np

    import moopt

    def evaluate(q):
        if returned == "np.array":
            return np.array([0.5, 1.0])
        if isinstance(returned, dict) and returned.get("f1") == "np.array1":
            return {**returned, "f1": np.array([0.5])}
        return returned

    res = moopt.optimize(_line_problem(evaluate), "random", budget=3, seed=0)
    assert res.counts["failed"] == 3 and res.n_paid == 3  # recorded failed, the search went on
    errors = {r.error for r in res.records}
    assert len(errors) == 1 and shown in errors.pop(), errors


def test_evaluate_numeric_types_and_metrics_are_still_accepted():
    import numpy as np

    import moopt

    res = moopt.optimize(_line_problem(lambda q: {"f1": np.float32(q["x"]), "f2": np.int64(1), "note": "text",
                                                  "n_params": 3}), "random", budget=3, seed=0)
    assert res.counts["ok"] == 3
    assert res.records[0].metrics == {"note": "text", "n_params": 3.0}


@pytest.mark.parametrize("seed,exc,shown", [
    (2**70, ValueError, "seed must be an integer from 0 to 2**63-1 (9223372036854775807), got "
                        "1180591620717411303424: the run store keeps it in SQLite's 64-bit integer"),
    (-1, ValueError, "seed must be an integer from 0 to 2**63-1"),
    (1.5, TypeError, "seed must be an integer from 0 to 2**63-1 (9223372036854775807) or None, got 1.5 (float); "
                     "e.g. seed=0"),
])
def test_seed_out_of_range_is_refused_before_the_store_is_written(tmp_path, seed, exc, shown):
    import moopt

    with pytest.raises(exc) as err:
        moopt.optimize(_line_problem(), "random", budget=5, seed=seed, store=tmp_path / "X.db")
    assert shown in str(err.value), err.value
    assert not (tmp_path / "X.db").exists()


def test_seed_out_of_range_exits_2_on_the_cli_before_writing(tmp_path, capsys):
    code, err = _cli(capsys, "run", "--problem", "zdt1", "--algorithm", "random", "--budget", 5,
                     "--seed", "99999999999999999999999", "--out", tmp_path / "X.db")
    assert code == 2 and "seed must be an integer from 0 to 2**63-1" in err and "Pass a smaller seed (CLI: --seed)" \
        in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs,exc,shown", [
    ({"retries": True}, ValueError, "retries must be a non-negative integer (retries of a candidate whose worker "
                                    "died, e.g. retries=1), got True"),
    ({"retries": -1}, ValueError, "retries must be a non-negative integer"),
    ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1 (candidates asked at once, e.g. "
                                    "batch_size=8), got 0"),
    ({"batch_size": 2.0}, ValueError, "batch_size must be an integer >= 1"),
    ({"budget": -1}, ValueError, "budget must be a non-negative integer (the number of evaluations paid for, e.g. "
                                 "budget=100), got -1"),
    ({"budget": 2.5}, ValueError, "budget must be a non-negative integer"),
    ({"progress": "yes"}, TypeError, "progress must be True, False or None, got 'yes'"),
    ({"evaluator": "processes:x"}, ValueError, "evaluator 'processes:x': the worker count must be a positive "
                                               "integer, e.g. 'processes:2'"),
    ({"evaluator": 3}, TypeError, "evaluator must be a spec string or an Evaluator, got int"),
])
def test_optimize_options_are_named_in_their_errors(tmp_path, kwargs, exc, shown):
    import moopt

    kw = {"budget": 5, **kwargs}
    with pytest.raises(exc) as err:
        moopt.optimize(_line_problem(), "random", seed=0, store=tmp_path / "X.db", **kw)
    assert shown in str(err.value), err.value
    assert not (tmp_path / "X.db").exists()


@pytest.mark.parametrize("make,shown", [
    (lambda E: E.ProcessEvaluator("two"), "n_workers must be an integer >= 1, got 'two'; e.g. processes:4"),
    (lambda E: E.DaskEvaluator(n_workers=0), "n_workers must be an integer >= 1, got 0; e.g. dask:4"),
    (lambda E: E.DaskEvaluator(prefetch="2"), "prefetch must be an integer >= 1, got '2'"),
])
def test_evaluator_arguments_are_named_in_their_errors(make, shown):
    from moopt import evaluators

    with pytest.raises(ValueError) as err:
        make(evaluators)
    assert shown in str(err.value)


_NO_GUARD = '''
import moopt

def evaluate(q):
    return {"f1": q["x"], "f2": 1 - q["x"]}

p = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"], evaluate)
moopt.optimize(p, "random", budget=4, seed=0, evaluator="dask:2")
'''


def test_dask_script_without_the_main_guard_exits_quickly_naming_the_guard(tmp_path):
    import subprocess
    import sys

    pytest.importorskip("distributed")
    script = tmp_path / "noguard.py"
    script.write_text(_NO_GUARD)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert ('so the script must run moopt.optimize (or the code calling it) only under `if __name__ == "__main__":` '
            f"(the call at {script}:8 is not under it)") in done.stderr, done.stderr
    assert "Move the call under the guard, or use evaluator='processes:N'" in done.stderr
    assert "Nanny failed to start" not in done.stderr.replace("(Dask reports 'Nanny failed to start')", "")
    # the same script with the guard runs
    guarded = tmp_path / "guarded.py"
    guarded.write_text(_NO_GUARD.replace("\np = ", "\nif __name__ == '__main__':\n    p = ")
                       .replace("\nmoopt.optimize", "\n    moopt.optimize"))
    done = subprocess.run([sys.executable, str(guarded)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("what,shown", [
    ("lock", "its evaluate (_dask_problem.<locals>.evaluate): its closed-over variable 'lock' (a _thread.lock) "
             "cannot be pickled"),
    ("file", "its evaluate (_dask_problem.<locals>.evaluate): its closed-over variable 'fh' (a _io.TextIOWrapper) "
             "cannot be pickled"),
])
def test_dask_with_an_unpicklable_problem_names_the_object_and_the_fix(tmp_path, what, shown):
    pytest.importorskip("distributed")
    import moopt

    problem = _dask_problem(what, tmp_path)
    with pytest.raises(moopt.errors.ConfigError) as err:
        moopt.optimize(problem, "random", budget=4, seed=0, evaluator="dask:2")
    msg = str(err.value)
    assert msg.startswith("the problem cannot be sent to the Dask workers: ") and shown in msg, msg
    assert "Define evaluate as a module-level function" in msg and "evaluator='processes:N'" in msg


def _dask_problem(what, tmp_path):
    import threading

    if what == "lock":
        lock = threading.Lock()

        def evaluate(q):
            with lock:
                return {"f1": q["x"], "f2": 1 - q["x"]}
    else:
        fh = open(tmp_path / "log.txt", "w")  # noqa: SIM115 - the point: an open file in the closure

        def evaluate(q):
            fh.write("x\n")
            return {"f1": q["x"], "f2": 1 - q["x"]}

    return _line_problem(evaluate)


def test_cli_refuses_a_timeout_beyond_the_limit_before_creating_the_store(tmp_path, capsys):
    from moopt.cli import main

    db = tmp_path / "x.db"
    assert main(["run", "--problem", "zdt1", "--algorithm", "random", "--budget", "5", "--timeout", "1e12",
                 "--out", str(db)]) == 2
    assert "beyond the longest time limit" in capsys.readouterr().err and not db.exists()


def test_cli_refuses_a_smaller_budget_without_calling_the_run_complete(tmp_path, capsys):
    from moopt.cli import main

    db = tmp_path / "y.db"
    args = ["run", "--problem", "zdt1", "--algorithm", "random", "--out", str(db)]
    assert main([*args, "--budget", "10"]) == 0
    capsys.readouterr()
    assert main([*args, "--budget", "5"]) == 2
    captured = capsys.readouterr()
    assert "already spent 10 paid evaluations" in captured.err and "--budget 10" in captured.err
    assert "is complete" not in captured.out + captured.err


# ------------------------------------------------------------------ the kernels' input (moopt.pareto, moopt.indicators)
def _kernel_call(name):
    import moopt

    return {
        "nondominated_sort": moopt.nondominated_sort,
        "is_nondominated": moopt.is_nondominated,
        "pareto_front": moopt.pareto_front,
        "crowding_distance": moopt.crowding_distance,
        "hypervolume": lambda X: moopt.hypervolume(X, [4.0, 4.0, 4.0]),
        "hv_contributions": lambda X: moopt.hv_contributions(X, [4.0, 4.0, 4.0]),
        "infer_reference_point": moopt.infer_reference_point,
    }[name]


_KERNEL_NAMES = ["nondominated_sort", "is_nondominated", "pareto_front", "crowding_distance", "hypervolume",
                 "hv_contributions", "infer_reference_point"]


@pytest.mark.parametrize("name", _KERNEL_NAMES)
def test_kernel_with_1d_input_is_refused_naming_both_fixes(name):
    # nondominated_sort([3., 1., 2.]) returned [0]: one point, where three points of one objective were meant
    with pytest.raises(ValueError) as err:
        _kernel_call(name)([3.0, 1.0, 2.0])
    msg = str(err.value)
    assert "F has shape (3,), but points must come as an array of shape (n, m)" in msg, msg
    assert "For 3 points of one objective pass np.asarray(F)[:, None]; for one point of 3 objectives pass [F]" in msg


@pytest.mark.parametrize("name", _KERNEL_NAMES)
def test_kernel_with_zero_objectives_is_refused(name):
    import numpy as np

    with pytest.raises(ValueError, match=r"F has shape \(3, 0\): 3 points with no objective values; each row must "
                                         r"hold at least one objective \(shape \(n, m\) with m >= 1\)"):
        _kernel_call(name)(np.zeros((3, 0)))


@pytest.mark.parametrize("name", _KERNEL_NAMES)
@pytest.mark.parametrize("dtype,shown", [
    (bool, "F is a bool array; objective values must be real numbers. If the booleans are meant as 0/1 values, "
           "convert them first: np.asarray(F, dtype=float)."),
    (complex, "F is a complex array; objective values must be real numbers (pass the real part, np.real(F)"),
])
def test_kernel_with_bool_or_complex_values_is_refused(name, dtype, shown):
    import numpy as np

    with pytest.raises(TypeError) as err:
        _kernel_call(name)(np.ones((2, 3), dtype=dtype))
    assert shown in str(err.value), err.value


def test_kernel_with_ragged_rows_or_strings_is_refused():
    import moopt

    with pytest.raises(TypeError, match="its rows have different lengths; give every point the same number of "
                                        "objectives"):
        moopt.nondominated_sort([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match=r"got strings \(e.g. '1'\); parse them into numbers first"):
        moopt.hypervolume([["1", "2"]], [3.0, 3.0])


@pytest.mark.parametrize("ref,exc,shown", [
    ([[3.0, 3.0]], ValueError, "ref must be one point of shape (m,) (one coordinate per objective), got an array "
                               "of shape (1, 2); pass a single reference point, e.g. ref[0]"),
    ([[3.0], [3.0]], ValueError, "got an array of shape (2, 1)"),
    ([True, True], TypeError, "ref must be real numbers, got a bool array [True, True]."),
    ([3 + 0j, 3 + 0j], TypeError, "ref must be real numbers, got a complex array"),
])
def test_hypervolume_with_a_reference_point_that_is_not_one_real_point(ref, exc, shown):
    import moopt

    with pytest.raises(exc) as err:
        moopt.hypervolume([[1.0, 2.0], [2.0, 1.0]], ref)
    assert shown in str(err.value), err.value


@pytest.mark.parametrize("call", [
    lambda m, F, r: m.hypervolume(F, r),
    lambda m, F, r: m.hv_contributions(F, r),
    lambda m, F, r: m.hv_improvement(F, F + 1.0, r),
    lambda m, F, r: m.hypervolume_mc(F, r, n_samples=10, seed=0),
])
def test_hypervolume_that_overflows_is_an_error_not_inf(call):
    import warnings

    import numpy as np

    import moopt

    # moocore returns inf here; an inf HV ranks every such set equal, so it is refused
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError) as err:
            call(moopt, np.zeros((1, 3)), [1e200, 1e200, 1e200])
    msg = str(err.value)
    assert "overflowed a float64 (the volume exceeds about 1.8e308)" in msg, msg
    assert "Rescale the objectives first, e.g. moopt.normalize(F)" in msg


# ------------------------------------------------------------------ moopt hv / plot / run / demo output
def _hv_cli(capsys, *args):
    code = main([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf0.1,0.9\n0.5,0.5\n", b"0.1,0.9\r\n0.5,0.5\r\n",
                                     b"\xef\xbb\xbff1,f2\n0.1,0.9\n0.5,0.5\n"])
def test_hv_csv_with_a_bom_keeps_its_first_row_and_says_how_many_were_read(tmp_path, capsys, content):
    # the BOM made "\ufeff0.1" a non-number, so line 1 was taken as a header: HV 0.25 instead of 0.29
    path = tmp_path / "p.csv"
    path.write_bytes(content)
    code, out, err = _hv_cli(capsys, "hv", path, "--ref", "1,1")
    assert code == 0, err
    assert out == "hypervolume: 0.29\n"  # stdout stays machine-readable
    names = ": f1, f2" if b"f1" in content else ""
    assert f"read 2 points (2 objectives{names}) from {path}" in err


@pytest.mark.parametrize("content,shown", [
    ("0.1,O.9\n0.5,0.5\n", "line 1, field 2: 'O.9' is not a number (a header line must name every column, with no "
                           "number in it)"),
    ("f1,f2\n0.1,0.9\n0.5,O.5\n", "line 3, field 2: 'O.5' is not a number"),
    ("f1,f2\n0.1,0.9\n\n0.5\n", "line 4: 1 field, but the header has 2; every point needs one value per objective"),
    ("0.1;0.9\n0.5;0.5\n", "line 2, field 1: '0.5;0.5' is not a number (fields must be separated by commas)"),
    ("f1,f2\n0.1,nan\n", "line 2, field 2: 'nan' is not a finite number; remove or repair that point"),
    ("f1,f2\n", "holds a header line (f1,f2) and no points"),
])
def test_hv_csv_with_a_bad_row_names_the_line_and_the_field(tmp_path, capsys, content, shown):
    path = tmp_path / "p.csv"
    path.write_text(content)
    code, out, err = _hv_cli(capsys, "hv", path, "--ref", "1,1")
    assert code == 2 and shown in err and out == "", err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args,shown", [
    (["--ref", "1,1,1"], "Invalid value for --ref: '1,1,1' has 3 coordinates but the points have 2 objectives; "
                         "give one value per objective"),
    (["--directions", "min,mx"], "Invalid value for --directions: --directions[1] is 'mx'; each direction must be "
                                 "'min' or 'max'"),
    (["--directions", "min"], "--directions has 1 entries but the points have 2 objectives"),
])
def test_hv_ref_and_directions_errors_name_the_option(tmp_path, capsys, args, shown):
    path = tmp_path / "p.csv"
    path.write_text("0.1,0.9\n0.5,0.5\n")
    code, out, err = _hv_cli(capsys, "hv", path, *args)
    assert code == 2 and shown in err, err


def test_hv_directions_in_capitals_count_the_outside_points_like_the_kernel(tmp_path, capsys):
    # the outside count compared the text to "min", so MIN was read as max
    path = tmp_path / "p.csv"
    path.write_text("0.1,0.9\n0.5,0.5\n2,2\n")
    code, out, err = _hv_cli(capsys, "hv", path, "--ref", "1,1", "--directions", "MIN,Min")
    assert code == 0 and "hypervolume: 0.29" in out and "(1 of 3 points do not dominate" in out, out


def test_hv_with_a_ref_that_bounds_no_point_says_so_on_stderr(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("0.1,0.9\n0.5,0.5\n")
    code, out, err = _hv_cli(capsys, "hv", path, "--ref", "0,0")
    assert code == 0 and "hypervolume: 0\n" in out
    assert ("warning: --ref 0,0 does not bound any point (the points' nadir is (0.5, 0.9)); the hypervolume is 0; "
            "pass a reference point worse than the nadir in every objective, or leave --ref out to infer one") in err


@pytest.fixture(scope="module")
def _zdt1_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("zdt1") / "r.db"
    assert main(["run", "--problem", "zdt1", "--algorithm", "random", "--budget", "30", "--out", str(db),
                 "--no-progress"]) == 0
    return db


def test_plot_with_a_ref_that_bounds_no_point_is_refused_before_writing(tmp_path, capsys, _zdt1_db):
    import moopt

    capsys.readouterr()
    nadir = moopt.RunResult.load(str(_zdt1_db)).front_F.max(axis=0)
    code, out, err = _hv_cli(capsys, "plot", _zdt1_db, "--ref", "0,0", "--out", tmp_path / "p")
    assert code == 2, err
    assert (f"Invalid value for --ref: --ref 0,0 does not bound any point (the points' nadir is "
            f"({nadir[0]:.6g}, {nadir[1]:.6g})); the hypervolume would be 0 at every evaluation; pass a reference "
            "point worse than the nadir in every objective, or leave --ref out to infer one") in err
    code, out, err = _hv_cli(capsys, "plot", _zdt1_db, "--ref", "0,0,0", "--out", tmp_path / "p")
    assert code == 2 and "'0,0,0' has 3 coordinates but the run has 2 objectives ['f1', 'f2']" in err
    assert not (tmp_path / "p").exists()


def test_plot_api_with_a_ref_that_bounds_no_point_warns(tmp_path, _zdt1_db):
    import moopt

    res = moopt.RunResult.load(str(_zdt1_db))
    with pytest.warns(UserWarning, match=r"the reference point \[0.0, 0.0\] does not bound any point of the front "
                                         r"\(its nadir is .*\), so the hypervolume is 0 at every evaluation; pass a "
                                         r"reference point worse than the nadir"):
        res.plot(tmp_path / "p", ref=[0.0, 0.0])


def test_run_says_why_the_hv_against_the_problems_own_reference_point_is_0(tmp_path, capsys, _zdt1_db):
    import moopt

    capsys.readouterr()
    code, out, err = _hv_cli(capsys, "run", "--problem", "zdt1", "--algorithm", "random", "--budget", "30",
                             "--out", _zdt1_db, "--no-progress")  # complete: shows the result again
    assert code == 0, err
    nadir = moopt.RunResult.load(str(_zdt1_db)).front_F.max(axis=0)
    assert nadir[1] > 1.1  # 30 random points of zdt1: the whole front is above f2 = 1.1
    assert ("hypervolume w.r.t. [1.1, 1.1]: 0.000000 (true front: 0.876667, 0.0%): no point of the front is inside "
            f"zdt1's reference point (1.1, 1.1) (the front's nadir is ({nadir[0]:.6g}, {nadir[1]:.6g})), so it is 0; "
            "the hypervolume above is against a reference point inferred from the front") in out, out


def test_run_result_refuses_a_2d_reference_point():
    import moopt

    p = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"], lambda q: {"f1": q["x"], "f2": 1 - q["x"]})
    res = moopt.optimize(p, "random", budget=5, seed=0)
    with pytest.raises(ValueError, match=r"one point of shape \(2,\).*shape \(1, 2\).*ref\[0\]"):
        res.hypervolume([[1.1, 1.1]])
    assert res.hypervolume([1.1, 1.1]) > 0
