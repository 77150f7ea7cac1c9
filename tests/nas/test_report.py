"""front_table and write_results: a run's results folder (tables, CSVs, plots, report.md)."""

import csv
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

import moopt
from moopt.adapters.nas.report import architecture, format_value, front_records, front_table, write_results
from moopt.errors import EvaluationError

PNG = b"\x89PNG\r\n\x1a\n"
UNITS = {"f1": "ms", "f2": "%"}
SOURCES = {"f1": "measured here", "f2": "a model"}


def _evaluate(q):
    if q["k"] == 3:
        raise EvaluationError("k=3 always fails")
    return {"f1": q["x"] * q["k"], "f2": 100 * q["x"] ** 0.5, "g": q["x"] - 0.9}  # x > 0.9 is infeasible


def _run(tmp_path, budget=20, *, max_first=False):
    objs = [moopt.Objective("f1", "min", "ms"), moopt.Objective("f2", "max", "%")]
    if max_first:
        objs = objs[::-1]
    p = moopt.Problem([moopt.Real("x", 0, 1), moopt.Integer("k", 1, 3)], objs, _evaluate,
                      constraints=["g"], name="toy")
    return moopt.optimize(p, "random", budget=budget, seed=0, store=str(tmp_path / "r.db"))


def by_seq(res):
    return {r.candidate_id: r for r in res.records if r.cached_from is None}


def _links(markdown: str) -> list[str]:
    return [unquote(m) for m in re.findall(r"\]\(([^)]+)\)", markdown)]


@pytest.fixture
def written(tmp_path):
    res = _run(tmp_path)
    out = tmp_path / "results"
    seq = front_records(res)[0].candidate_id
    files = {}
    for kind, suffix in (("json", ".json"), ("torchscript", ".torchscript.pt")):
        path = out / "exported" / f"id{seq}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
        files[kind] = str(path)
    report = write_results(res, out, units=UNITS, sources=SOURCES, title="Toy run",
                           summary={"preset": "toy", "budget": 20, "seed": 0, "counts": res.counts,
                                    "elapsed_s": 1.23456},
                           exported={seq: files}, notes=["the toy has no memory objective"])
    return res, out, report, seq


def test_folder_files_and_png_magic(written):
    res, out, report, _ = written
    assert report == out / "report.md"
    for name in ("front.md", "front.csv", "objectives.csv", "front.png", "hypervolume.png", "report.md"):
        assert (out / name).is_file(), name
    assert (out / "front.png").read_bytes()[:8] == PNG and (out / "hypervolume.png").read_bytes()[:8] == PNG
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_front_csv_rows_equal_the_records(written):
    res, out, _, _ = written
    with open(out / "front.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    recs = front_records(res)
    assert len(rows) == len(res.front) == len(recs) > 1
    assert list(rows[0]) == ["id", "architecture", "f1", "f2"]
    by_seq = {r.candidate_id: r for r in res.records if r.cached_from is None}
    for row, rec in zip(rows, recs):
        r = by_seq[int(row["id"])]
        assert r is rec and r.status == "ok" and r.constraints["g"] <= 0 and r.params["k"] != 3
        assert float(row["f1"]) == r.objectives["f1"] and float(row["f2"]) == r.objectives["f2"]  # full precision
        assert sorted(row["architecture"].split(", ")) == [f"k={r.params['k']}", f"x={format_value(r.params['x'])}"]
    f1 = [float(r["f1"]) for r in rows]
    assert f1 == sorted(f1)  # first objective, in its own direction (min)
    assert {int(r["id"]) for r in rows} == {rec.candidate_id for rec in recs}
    assert res.counts["failed"] > 0  # failed evaluations existed and were left out


def test_objectives_csv_holds_units_and_sources(written):
    _, out, _, _ = written
    with open(out / "objectives.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows == [{"name": "f1", "direction": "min", "unit": "ms", "source": "measured here"},
                    {"name": "f2", "direction": "max", "unit": "%", "source": "a model"}]


def test_report_md_links_summary_exports_and_notes(written):
    res, out, report, seq = written
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Toy run\n")
    links = _links(text)
    assert {"front.csv", "objectives.csv", "front.md", "front.png", "hypervolume.png",
            f"exported/id{seq}.json", f"exported/id{seq}.torchscript.pt"} <= set(links)
    assert all((out / link).is_file() for link in links), links
    assert "- **preset**: toy" in text and "- **elapsed_s**: 1.235" in text and "- **budget**: 20" in text
    assert f"- **counts**: ok {res.counts['ok']}, failed {res.counts['failed']}" in text
    assert f"- id {seq} `{architecture(by_seq(res)[seq].params)}`: [json](exported/id{seq}.json)" in text
    assert "- the toy has no memory objective" in text
    assert front_table(res, units=UNITS, sources=SOURCES).strip() in text
    assert (out / "front.md").read_text(encoding="utf-8") == front_table(res, units=UNITS, sources=SOURCES)


def test_markdown_table_header_values_and_directions(tmp_path):
    res = _run(tmp_path)
    md = front_table(res, units=UNITS, sources=SOURCES)
    lines = md.splitlines()
    assert lines[0] == "| id | architecture | f1 (ms) | f2 (%) |"
    rows = [ln for ln in lines[2:] if ln.startswith("|")]
    assert len(rows) == len(res.front)
    first = front_records(res)[0]
    assert rows[0].split(" | ")[2] == format_value(first.objectives["f1"])
    assert "Directions and sources: f1: min, measured here; f2: max, a model." in md
    assert front_table(res, units={}, sources={}).splitlines()[0] == "| id | architecture | f1 (ms) | f2 (%) |"
    assert "f1: min, source not given" in front_table(res, units={}, sources={})  # units fall back to the run's
    with pytest.raises(ValueError, match="choose one of"):
        front_table(res, units=UNITS, sources=SOURCES, fmt="xlsx")


def test_sorted_by_first_objective_in_its_direction(tmp_path):
    res = _run(tmp_path, max_first=True)
    with open(tmp_path / "front.csv", "w", encoding="utf-8") as f:
        f.write(front_table(res, units=UNITS, sources=SOURCES, fmt="csv"))
    with open(tmp_path / "front.csv", newline="", encoding="utf-8") as f:
        f2 = [float(r["f2"]) for r in csv.DictReader(f)]
    assert len(f2) > 1 and f2 == sorted(f2, reverse=True)  # f2 is maximised


def test_hypervolume_skipped_with_a_note_below_two_ok_points(tmp_path):
    res = _run(tmp_path, budget=1)
    assert len(res.F) < 2
    report = write_results(res, tmp_path / "out", units=UNITS, sources=SOURCES, title="tiny", summary={})
    text = report.read_text(encoding="utf-8")
    assert not (tmp_path / "out" / "hypervolume.png").exists() and "hypervolume.png was not drawn" in text
    assert "No network was exported." in text
    assert all((tmp_path / "out" / link).is_file() for link in _links(text))


def test_a_crash_leaves_the_previous_report_whole(written, monkeypatch):
    res, out, report, _ = written
    before = report.read_bytes()

    def broken(*_args, **_kw):
        raise RuntimeError("plotting crashed")

    monkeypatch.setattr("moopt.plotting.plot_hypervolume", broken)
    with pytest.raises(RuntimeError, match="plotting crashed"):
        write_results(res, out, units=UNITS, sources=SOURCES, title="other", summary={})
    assert report.read_bytes() == before
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_architecture_and_format_value():
    assert architecture({"cell": ("bnrelu", "lgconv1x1", "bn", "conv3x3")}) == "bnrelu-lgconv1x1-bn-conv3x3"
    assert architecture({"a": 3, "b": "x", "c": (1, 2)}) == "a=3, b=x, c=1-2"
    assert architecture({"lr": 0.000123456}) == "lr=0.0001235"
    assert [format_value(v) for v in (7, 2.0, 0.5, 123456.7, True)] == ["7", "2", "0.5", "1.235e+05", "True"]
    assert format_value(1234567.0) == "1234567"  # a whole float (params read back from the store) as an int


def test_nas_run_results_folder(digits, tmp_path):
    from moopt.adapters.nas.problem import nas_problem

    p = nas_problem("dpp", objectives=["error_pct", "params"], dataset=digits, seed=0,
                    space_options={"stem_channels": 8, "stages": (1, 1), "growth": (4, 8), "max_length": 4},
                    train_config={"epochs": 1, "max_train": 64, "max_val": 32})
    res = moopt.optimize(p, "progressive", budget=6, seed=0, store=str(tmp_path / "r.db"))  # valid cells only
    assert res.counts["ok"] >= 2
    out = tmp_path / "results"
    report = write_results(res, out, units={"error_pct": "%", "params": "count"},
                           sources={"error_pct": "measured here (digits val)", "params": "counted (condensed)"},
                           title="DPP on digits", summary={"preset": "test", "budget": 6})
    with open(out / "front.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    recs = front_records(res)
    assert len(rows) == len(recs) >= 1
    for row, rec in zip(rows, recs):
        assert row["architecture"] == "-".join(rec.params["cell"])
        assert float(row["error_pct"]) == rec.objectives["error_pct"]
        assert float(row["params"]) == rec.objectives["params"]
    text = report.read_text(encoding="utf-8")
    assert "| id | architecture | error_pct (%) | params (count) |" in text
    assert all(Path(out / link).is_file() for link in _links(text))


def test_architecture_groups_per_unit_variables_and_falls_back_to_pairs():
    from moopt.adapters.nas.report import architecture

    dense = {"block0_layers": 8, "block0_growth": 24, "block1_layers": 6, "block1_growth": 12}
    assert architecture(dense) == "layers/growth per block: 8/24 6/12"
    macro = {"layer0_filters": 64, "layer0_kernel": 3, "layer0_stride": 2, "layer1_filters": 36, "layer1_kernel": 5,
             "layer1_stride": 1}
    assert architecture(macro) == "filters/kernel/stride per layer: 64/3/2 36/5/1"
    # a missing field, a gap in the units or two unit names: plain pairs
    assert architecture({"layer0_filters": 8, "layer0_kernel": 3, "layer1_filters": 4}) == \
        "layer0_filters=8, layer0_kernel=3, layer1_filters=4"
    assert architecture({"layer0_filters": 8, "layer2_filters": 4}) == "layer0_filters=8, layer2_filters=4"
    assert architecture({"layer0_filters": 8, "block0_growth": 4}) == "layer0_filters=8, block0_growth=4"


def test_architecture_of_an_nb201_cell_is_its_standard_string():
    from moopt.adapters.nas.report import architecture
    from moopt.problems.nb201 import EDGE_NAMES, NB201Problem

    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    params = NB201Problem().params_of(NB201Problem().index_of({"arch": arch}))
    assert sorted(params) == sorted(EDGE_NAMES) and architecture(params) == arch
