"""`bench report`: tables, LR selection, figures, exports, CLI, and the reproduction check."""
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch

from bench import cli
from bench.analysis import tables
from bench.analysis.analyze import analyze
from bench.analysis.labels import short_variant
from bench.analysis.reproduce import MOVED, NEW_ONLY, compare, compare_runs
from bench.analysis.speed import harness_efficiency, speedup_over
from bench.execute import store
from bench.execute.store import load_runs, load_table, read_probe, write_run
from bench.models import MODELS
from bench.probes.structure import structural_params
from bench.report.build import answer_lines, reproduction_lines, write_report
from bench.report.markdown import markdown
from bench.run.loop import train_run

FIXTURE = Path(__file__).parent / "fixtures" / "results_small.csv"


@pytest.fixture
def fixture_dir(tmp_path):
    shutil.copy(FIXTURE, tmp_path / "results.csv")
    return tmp_path


def report(out: Path, **kwargs) -> Path:
    """What bench/commands/report.py does: load with the store, then write."""
    return write_report(out, load_table(out), load_runs(out), read_probe(out, "speed.csv"),
                        read_probe(out, "gradflow.csv"), structural_params(), order=tuple(MODELS), **kwargs)


def selected_summary(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs, _ = tables.latest_versions(tables.wide_runs(table))
    selected, grid = tables.select_lr(runs)
    return tables.summarize(selected), grid


def test_lr_is_selected_on_validation_not_test_and_an_edge_choice_is_flagged():
    summary, grid = selected_summary(pd.read_csv(FIXTURE))
    bilstm = summary[(summary["task"] == "fill_in") & (summary["model"] == "bilstm")].iloc[0]
    # fixture: lr 0.001 has the best validation (0.95), lr 0.003 the best test (0.99)
    assert bilstm["lr"] == 0.001 and bilstm["lr_grid"] == 3 and bilstm["lr_edge"]
    assert bilstm["test_accuracy"] == pytest.approx(0.80, abs=0.03)
    chosen = grid[(grid["model"] == "bilstm") & grid["selected"]]
    assert list(chosen["lr"]) == [0.001] and chosen["edge"].all()
    transformer = summary[(summary["task"] == "fill_in") & (summary["model"] == "transformer")].iloc[0]
    assert transformer["lr"] == 0.003 and not transformer["lr_edge"]  # the middle of the grid
    flags = tables.lr_grid_table(grid)
    assert "at the grid's edge" in set(flags["flag"]) and set(flags["chosen"]) == {"yes", ""}


def test_a_cell_tuned_on_one_seed_chooses_on_that_seed_not_on_the_confirmed_lrs_extra_seeds():
    # lr 1e-3 ran seed 0 only (0.90); lr 3e-3 was confirmed with seeds 1 and 2 (0.80, 1.0, 1.0):
    # over all its seeds 3e-3 looks better (0.93), on the seed both ran 1e-3 wins
    rows = [{"task": "copy", "variant": "lag=8", "model": "lstm", "budget_params": 1000, "lr": lr,
             "seed": seed, "status": "ok", "run_id": f"r{i}", "val_accuracy": val, "test_accuracy": val}
            for i, (lr, seed, val) in enumerate([(1e-3, 0, 0.9), (3e-3, 0, 0.8), (3e-3, 1, 1.0), (3e-3, 2, 1.0)])]
    selected, grid = tables.select_lr(pd.DataFrame(rows))
    assert list(selected["lr"]) == [1e-3]
    assert set(grid["tuned_on"]) == {"0"} and list(grid["seeds"]) == [1, 3]
    assert list(grid["mean_val_accuracy"]) == [0.9, 0.8]  # what the choice compared
    assert list(tables.lr_grid_table(grid)["chosen on seeds"]) == ["0", "0"]
    # a full grid compares every seed
    full = pd.DataFrame([{**rows[0], "lr": lr, "seed": seed, "run_id": f"f{lr}{seed}", "val_accuracy": lr * seed}
                         for lr in (1e-3, 3e-3) for seed in (0, 1)])
    selected, grid = tables.select_lr(full)
    assert set(grid["tuned_on"]) == {"0,1"} and list(selected["lr"]) == [3e-3, 3e-3]


def test_a_diverged_seed_counts_against_its_lr_and_is_shown():
    summary, grid = selected_summary(pd.read_csv(FIXTURE))
    rnn = grid[(grid["task"] == "fill_in") & (grid["model"] == "rnn")].set_index("lr")
    assert rnn.loc[0.003, "diverged"] == 1 and not rnn.loc[0.003, "selected"]
    runs = pd.DataFrame({"task": "t", "variant": "v=1", "model": "m", "budget_params": 1, "lr": 0.1,
                         "seed": [0, 1, 2], "status": ["ok", "ok", "diverged"],
                         "val_accuracy": [0.9, 0.8, None], "test_accuracy": [0.9, 0.7, None]})
    cell = tables.summarize(tables.select_lr(runs)[0]).iloc[0]
    assert (cell["n"], cell["diverged"], cell["test_accuracy"]) == (2, 1, pytest.approx(0.8))
    assert cell["lr_grid"] == 1 and cell["outcomes"] == "2 ok; 1 diverged"  # no baseline: no solve bar


def test_summary_matrix_shows_the_trivial_baseline_and_marks_cells_at_it():
    summary, _ = selected_summary(pd.read_csv(FIXTURE))
    recall = summary[summary["task"] == "recall"]
    assert set(recall["n"]) == {6} and "solve_rate" in recall and set(recall["outcomes"]) >= {"6 solved (at cap)"}
    assert {"params_core", "params_total", "trivial_baseline", "at_baseline"} <= set(summary.columns)
    matrix = tables.accuracy_matrix(summary, order=tuple(MODELS))
    assert list(matrix.columns[:3]) == ["task", "variant", "trivial baseline"]
    assert list(matrix.columns[3:]) == [m for m in MODELS if m in set(summary["model"])]  # registry order
    assert list(matrix["variant"][matrix["task"] == "recall"]) == ["distance=8", "distance=32", "distance=128"]
    assert "(n=6)" in matrix.loc[matrix["task"] == "recall", "rnn"].iloc[0]
    at = summary[summary["at_baseline"] == True]  # noqa: E712
    assert len(at) and all("≤ baseline" in matrix.loc[(matrix["task"] == r.task), r.model].str.cat()
                           for r in at.itertuples())
    assert sorted(tables.accuracy_matrix(summary).columns[3:]) == list(tables.accuracy_matrix(summary).columns[3:])
    row = markdown(pd.DataFrame({"a": [float("nan")], "b": ["x|y"]})).splitlines()[2]
    assert row == "| – | x\\|y |"


def write_speed_and_gradflow(folder: Path) -> None:
    """Synthetic speed.csv (an H100-like shape) and gradflow.csv whose verdicts are known."""
    speed = pd.DataFrame([{"model": m, "implementation": "cudnn", "device": "cuda", "device_name": "H100",
                           "dtype": "bf16", "budget_params": 10**6, "length": t, "batch": 32,
                           "metric": "train_tokens_per_s", "value": v, "status": "ok", "torch": "2.x"}
                          for m, t, v in (("lstm", 64, 2.6e5), ("lstm", 4096, 5.0e5),
                                          ("gru", 64, 2.8e5), ("gru", 4096, 3.8e5),
                                          ("transformer", 64, 2.9e5), ("transformer", 4096, 6.2e6))])
    speed.to_csv(folder / "speed.csv", index=False)
    rows = [{"kind": "position", "model": m, "phase": phase, "quantity": "hidden", "distance": d,
             "grad_norm": f ** d} for m, f in (("rnn", 0.5), ("lstm", 0.9)) for d in range(20)
            for phase in ("init", "trained")]
    rows += [{"kind": "clip", "model": "rnn", "optimizer": opt, "step": i, "clip_norm": c,
              "grad_norm": 1.0, "update_max": u, "loss": 1.0}
             for opt, boom in (("sgd", 99.0), ("adamw", 0.1))
             for c, big in ((1.0, 0.1), (None, boom)) for i, u in enumerate([0.1] * 9 + [big])]
    pd.DataFrame(rows).to_csv(folder / "gradflow.csv", index=False)


def test_report_builds_from_a_results_table_with_speed_and_gradflow(fixture_dir):
    write_speed_and_gradflow(fixture_dir)
    text = report(fixture_dir, formats=("md", "latex", "csv")).read_text()
    for heading in ("## Verdicts", "## The short answer: mean test accuracy per cell", "## Environment",
                    "## Claims", "### Learning-rate grid", "### Task `recall`", "## Speed", "## Gradient flow"):
        assert heading in text
    verdicts = dict(re.findall(r"^\| \[(\d)\]\(#claim-\d\) \| .* \| \*\*(.+)\*\* \|$", text, flags=re.M))
    # claim 8: with chrono init the gated models hold to the longest distance (never refuted)
    assert verdicts == {"1": "supported", "2": "supported", "3": "supported", "4": "supported",
                        "5": "refuted", "6": "supported", "7": "supported", "8": "inconclusive",
                        "9": "supported"}
    assert "1 diverged" in text and "Speed-up over the LSTM" in text and "at the grid's edge" in text
    assert text.count("**not measured here**") >= 3 and "12.5x at T=4096" in text  # GPU anchors
    assert "under adamw nothing exploded" in text and "| sgd |" in text and "| adamw |" in text
    for name in ("headline", "accuracy_vs_wall_time", "throughput_vs_length", "speedup_over_lstm", "gradflow"):
        for fmt in ("png", "svg", "pdf"):
            assert (fixture_dir / f"{name}.{fmt}").stat().st_size > 1000, f"{name}.{fmt}"
    assert not (fixture_dir / "accuracy_vs_params.png").exists()  # one budget: nothing to show
    assert not (fixture_dir / "accuracy_vs_distance_recall.png").exists()  # the headline shows it: one figure
    assert (fixture_dir / "report.html").stat().st_size > 10_000
    assert not list(fixture_dir.glob(".*.tmp*")) and not list(fixture_dir.glob("*.tmp.*"))  # atomic writes
    summary = pd.read_csv(fixture_dir / "summary.csv")
    assert len(summary) == summary[["task", "variant", "model", "budget_params"]].drop_duplicates().shape[0]
    assert {"test_accuracy", "ci95", "ci_low", "ci_high", "lr", "lr_grid", "outcomes",
            "trivial_baseline"} <= set(summary.columns)
    tex = (fixture_dir / "report.tex").read_text()
    assert tex.count(r"\begin{tabular}") >= 4 and r"fill\_in" in tex


def test_a_folder_with_only_speed_results_reports(tmp_path):
    write_speed_and_gradflow(tmp_path)
    (tmp_path / "gradflow.csv").unlink()
    text = report(tmp_path, plots=False).read_text()
    assert "**No runs in this folder.**" in text and "## Speed" in text
    verdicts = dict(re.findall(r"^\| \[(\d)\]\(#claim-\d\) \| .* \| \*\*(.+)\*\* \|$", text, flags=re.M))
    assert verdicts["3"] == "supported" and verdicts["1"] == "not run"
    assert cli.main(["report", str(tmp_path), "--no-plots"]) == 0


def test_environment_dates_come_from_the_records_not_file_times():
    base = {"run_id": "a", "config": {"device": "cpu"}, "status": "ok", "task_version": 1,
            "environment": {"device": "cpu", "torch": "2.x", "python": "3.12", "threads": 2, "git_commit": "abc"}}
    records = [{**base, "finished_at": "2025-03-01T10:00:00"},
               {**base, "run_id": "b", "environment": {**base["environment"], "finished_at": 1740830400.0}},
               {**base, "run_id": "c"}]
    env = tables.environment(records)
    assert env["runs"].tolist() == [3]
    assert env["first"].iloc[0] == "2025-03-01 10:00" and env["last"].iloc[0] == "2025-03-01 12:00"
    assert tables.environment([base])["first"].iloc[0] == "unknown"


@pytest.fixture
def one_thread():
    """Tiny runs are fastest on one thread (and do not spin-wait on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_report_from_real_runs_rebuilds_the_table(tmp_path, tiny_config, one_thread):
    for model, distance in (("rnn", 2), ("rnn", 6), ("transformer", 2)):
        config = tiny_config(model, variant={"distance": distance, "n_train": 200, "n_val": 50,
                                             "n_test": 50})
        write_run(tmp_path, train_run(config))
    assert store.is_stale(tmp_path)
    path = report(tmp_path)
    assert (tmp_path / "results.csv").exists() and not store.is_stale(tmp_path)
    text = path.read_text()
    assert "torch" in text and "| cpu |" in text  # the environment table from run records
    assert "preliminary" in text  # one seed, one lr: never a verdict
    for png in ("curves_recall.png", "headline.png"):
        assert (tmp_path / png).exists()
    # every verdict links to its claim section, and the recall claims to their drawn figures
    assert "| [1](#claim-1) |" in text and '<a id="claim-1"></a>' in text
    claim_1 = text[text.index('<a id="claim-1"></a>'):text.index('<a id="claim-2"></a>')]
    assert "[headline.png](headline.png)" in claim_1 and "[curves_recall.png](curves_recall.png)" in claim_1
    claim_6 = text[text.index('<a id="claim-6"></a>'):text.index('<a id="claim-7"></a>')]
    assert "Figures:" not in claim_6  # no gradflow.csv here: no figure to link


def test_report_cli(fixture_dir, tmp_path, capsys):
    assert cli.main(["report", str(fixture_dir), "--no-plots", "--format", "md,latex,csv"]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out
    # the terminal gets the answer and the verdict table, not only a path
    assert "Verdicts" in out and re.search(r"^  1  \S+.*dependency distance", out, flags=re.M)
    assert "**" not in out and "](#" not in out  # plain text, no markdown markup
    text = (fixture_dir / "report.md").read_text()
    assert "| [6](#claim-6) |" in text and "**not run**" in text  # no gradflow.csv: claims 6 and 7 not run
    assert not list(fixture_dir.glob("*.png"))
    assert (fixture_dir / "report.tex").exists() and (fixture_dir / "summary.csv").exists()
    assert cli.main(["report", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["report", str(fixture_dir), "--format", "md,docx"]) == 2
    assert "docx" in capsys.readouterr().err
    # --compare against itself: nothing moved, exit 0
    assert cli.main(["report", str(fixture_dir), "--no-plots", "--compare", str(fixture_dir)]) == 0
    assert "Reproduction check" in (fixture_dir / "report.md").read_text()


def test_compare_lists_the_cells_that_moved():
    table = pd.read_csv(FIXTURE)
    same = compare(table, table)
    assert (same["status"] == "within").all()
    shifted = table.copy()
    hit = (shifted["model"] == "rnn") & (shifted["metric"] == "test_accuracy") & (shifted["task"] == "recall")
    shifted.loc[hit, "value"] += 0.3
    extra = shifted[shifted["model"] == "gru"].assign(model="mingru", run_id=lambda f: f["run_id"] + "x")
    result = compare(pd.concat([shifted, extra]), table)
    assert set(result.loc[result["status"] == MOVED, "model"]) == {"rnn"}
    assert (result.loc[result["model"] == "mingru", "status"] == NEW_ONLY).all()


def test_compare_explains_every_cell_that_is_not_identical():
    """A rerun whose cells differ names what differs between the two environments (threads,
    CPU, torch, harness code); identical cells need no explanation; an unchanged environment
    that still differs is called nondeterminism."""
    table = pd.read_csv(FIXTURE)
    cells = table[table["metric"] == "test_accuracy"][["task", "variant", "model", "budget_params"]]
    cells = cells.drop_duplicates()

    def records(threads: int, code: str) -> list[dict]:
        return [{"config": {"task": c.task, "variant": dict(p.split("=", 1) for p in str(c.variant).split(",") if p),
                            "model": c.model, "budget_params": int(c.budget_params)},
                 "environment": {"device_name": "cpu x", "threads": threads, "torch": "2.13.0",
                                 "harness_code": code}} for c in cells.itertuples()]

    hit = (table["model"] == "lstm") & (table["metric"] == "test_accuracy")
    shifted = table.copy()
    shifted.loc[hit, "value"] += 0.001
    result = compare(shifted, table, records(2, "abc"), records(1, "abc"))
    lstm = result[result["model"] == "lstm"]
    assert (~lstm["identical"]).all() and lstm["why"].str.contains("threads 1 -> 2").all()
    others = result[result["model"] != "lstm"]
    assert others["identical"].all() and (others["why"] == "").all()
    again = compare(shifted, table, records(1, "abc"), records(1, "abc"))
    assert again.loc[again["model"] == "lstm", "why"].str.contains("nondeterminism").all()
    code = compare(shifted, table, records(1, "def"), records(1, "abc"))
    assert code.loc[code["model"] == "lstm", "why"].str.contains("harness_code abc -> def").all()


def test_compare_runs_finds_every_run_that_differs_and_every_outcome_that_flips():
    """Per run id in both tables: a 1e-9 loss difference is not identical (and says so in
    scientific notation in the report), a test accuracy pushed under the solve bar flips the
    outcome, untouched runs are identical, and a run in one table only is not compared."""
    table = pd.read_csv(FIXTURE)
    assert compare_runs(table, table)["identical"].all()
    runs = table.loc[table["metric"] == "test_accuracy"].drop_duplicates("run_id")
    tiny, flip = runs["run_id"].iloc[0], runs["run_id"].iloc[1]
    shifted = table.copy()
    shifted.loc[(shifted["run_id"] == tiny) & (shifted["metric"] == "test_loss"), "value"] += 1e-9
    accuracy = (shifted["run_id"] == flip) & (shifted["metric"] == "test_accuracy")
    shifted.loc[accuracy, "value"] = 0.0 if table.loc[accuracy, "value"].iloc[0] > 0.5 else 1.0
    extra = shifted[shifted["run_id"] == tiny].assign(run_id="only-new")
    result = compare_runs(pd.concat([shifted, extra]), table).set_index("run_id")
    assert "only-new" not in result.index
    assert not result.loc[tiny, "identical"] and not result.loc[tiny, "outcome_changed"]
    assert result.loc[tiny, "diff_test_loss"] == pytest.approx(1e-9, rel=1e-3)
    assert result.loc[flip, "outcome_changed"] and not result.loc[flip, "identical"]
    assert result.drop(index=[tiny, flip])["identical"].all()
    lines = "\n".join(reproduction_lines(compare(shifted, table), compare_runs(shifted, table), "x"))
    assert "1e-09" in lines and "2 differ, 1 of them in outcome" in lines


def test_speedup_over_is_the_one_definition():
    row = lambda m, metric, v, length=8, **kw: {"model": m, "implementation": "x", "device": "cpu",  # noqa: E731
                                                "dtype": "fp32", "budget_params": 5000, "length": length,
                                                "batch": 2, "metric": metric, "value": v, "status": "ok", **kw}
    frame = pd.DataFrame([row("lstm", "train_tokens_per_s", 100.0), row("gru", "train_tokens_per_s", 250.0),
                          row("lstm", "infer_latency_ms", 4.0), row("gru", "infer_latency_ms", 2.0),
                          row("gru", "train_tokens_per_s", 80.0, length=16),  # no baseline at 16
                          row("gru", "train_tokens_per_s", 50.0, threads=1)])  # another setting
    ratios = speedup_over(frame).set_index(["model", "metric", "length"])["speedup"]
    assert ratios.to_dict() == {("lstm", "train_tokens_per_s", 8): 1.0, ("gru", "train_tokens_per_s", 8): 2.5,
                                ("lstm", "infer_latency_ms", 8): 1.0, ("gru", "infer_latency_ms", 8): 2.0}
    with pytest.raises(ValueError, match="peak_mem_bytes"):
        speedup_over(frame, metrics=("peak_mem_bytes",))


def test_harness_efficiency_divides_run_throughput_by_raw_step_throughput():
    """End to end (validation included) and training-only, each over the raw step throughput
    measured at the same model, device, threads, length, batch and budget."""
    runs = pd.DataFrame({"model": ["lstm", "lstm", "gru", "lstm"], "device": "cuda", "length": [256, 256, 256, 256],
                         "batch_size": 32, "budget_params": 1000, "threads": [1, 1, 1, 2],
                         "train_tokens_per_s": [90.0, 110.0, 50.0, 500.0],
                         "run_tokens_per_s": [80.0, 100.0, 40.0, 400.0]})
    speed = pd.DataFrame({"model": ["lstm", "lstm", "transformer"], "implementation": "x", "device": "cuda",
                          "dtype": "bf16", "length": [256, 1024, 256], "batch": 32, "budget_params": 1000,
                          "threads": 1, "metric": "train_tokens_per_s", "value": [200.0, 300.0, 400.0],
                          "status": "ok"})
    table = harness_efficiency(runs, speed)
    # gru has no speed row; lstm@1024 has no run; the 2-thread lstm run has no 2-thread speed row
    assert table["model"].tolist() == ["lstm"] and table["threads"].tolist() == [1]
    assert table["run_tokens_per_s"].iloc[0] == 90.0 and table["efficiency"].iloc[0] == 0.45
    assert table["train_tokens_per_s"].iloc[0] == 100.0 and table["efficiency_train"].iloc[0] == 0.5
    assert harness_efficiency(runs, speed.iloc[0:0]).empty


def test_lr_choice_says_when_no_seed_is_shared_by_every_lr_and_summary_counts_stalled_runs():
    rows = [{"task": "copy", "variant": "lag=8", "model": "lstm", "budget_params": 1000, "lr": lr, "seed": seed,
             "status": "ok", "run_id": f"r{lr}{seed}", "val_accuracy": val, "test_accuracy": val,
             "converged": 1.0, "steps_done": steps, "step_cap": 800, "trivial_baseline": 0.125}
            for lr, seed, val, steps in [(1e-3, 0, 0.9, 800), (3e-3, 1, 0.13, 400)]]
    selected, grid = tables.select_lr(pd.DataFrame(rows))
    assert set(grid["tuned_on"]) == {"0,1 (no seed shared by every lr)"} and "_common" not in selected
    # one vocabulary (bench/analysis/outcome.py) for how the runs ended, in every table
    summary = tables.summarize(tables.select_lr(pd.DataFrame([{**rows[1], "lr": 1e-3}, rows[0]]))[0])
    assert summary.iloc[0]["outcomes"] == "1 stalled at chance (stopped early); 1 solved (at cap)"


def test_the_report_answers_first_then_verdicts_then_the_short_answer(fixture_dir):
    text = report(fixture_dir, plots=False).read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# Benchmark report")
    first = next(x for x in lines[1:] if x.strip())
    result = analyze(load_table(fixture_dir), order=tuple(MODELS))
    assert first == answer_lines(result)[0] and first.strip()  # the answer (answer.py) before anything else
    verdicts, short, how = (text.index(h) for h in ("## Verdicts", "## The short answer", "## How to read"))
    assert verdicts < short < how
    assert "≤ baseline" in text[short:how]  # fill_in's rnn sits at its baseline


def test_no_numpy_reprs_and_nothing_outside_the_repository(fixture_dir):
    write_speed_and_gradflow(fixture_dir)
    text = report(fixture_dir, plots=False).read_text()
    assert not re.search(r"np\.\w+\(|array\(\[", text), re.search(r".{60}np\.\w+\(.{40}", text)
    assert "outside this repository" not in text and "shared/" not in text
    assert "`results/gpu_anchors.md`" in text  # the GPU numbers claims 3 and 5 cite, with their source
    anchors = (Path(__file__).parents[1] / "results" / "gpu_anchors.md").read_text()
    for number in ("0.26M", "0.28M", "0.29M", "6.23M", "0.50M", "0.38M"):
        assert number in anchors


def test_a_single_variant_is_labelled_by_what_the_user_passed():
    rows = pd.DataFrame({"task": ["recall"] * 2, "model": ["lstm", "gru"],
                         "variant": ["distance=64,n_keys=8,n_pairs=1,n_test=1000,n_train=8000"] * 2})
    assert list(short_variant(rows)) == ["distance=64", "distance=64"]  # not 'default'
    sweep = pd.DataFrame({"task": ["recall", "recall", "copy"], "model": ["lstm"] * 3,
                          "variant": ["distance=8,n_pairs=1", "distance=32,n_pairs=1", "n_memory=10,n_train=50"]})
    assert list(short_variant(sweep)) == ["distance=8", "distance=32", "n_memory=10"]
    assert list(short_variant(pd.DataFrame({"task": ["t"], "variant": [""]}))) == ["default"]


def test_task_table_says_where_a_grid_reached_its_limit_and_how_fast_seeds_solved():
    from bench.report.markdown import task_table

    summary = pd.DataFrame({
        "task": ["recall"] * 3, "variant": ["distance=8"] * 3, "model": ["rnn", "lstm", "gru"],
        "budget_params": [100_000] * 3, "lr": [0.1, 0.001, 0.003], "lr_grid": [5, 4, 3],
        "lr_edge": [True, True, False], "lr_at_limit": [True, False, False], "n": [8, 8, 8],
        "test_accuracy": [0.2, 1.0, 1.0], "ci95": [0.1, 0.0, 0.0], "diverged": [0, 0, 0],
        "n_solved": [0, 8, 8], "solve_rate": [0.0, 1.0, 1.0], "solve_lo": [0.0, 0.63, 0.63],
        "solve_hi": [0.37, 1.0, 1.0], "median_steps_to_bar": [float("nan"), 150.0, 1200.0]})
    table = task_table(summary, "recall").set_index("model")
    assert table.loc["rnn", "lr (of grid)"] == "0.1 (edge, grid at its limit) of 5"
    assert table.loc["lstm", "lr (of grid)"] == "0.001 (edge) of 4" and table.loc["gru", "lr (of grid)"] == "0.003 of 3"
    assert list(table["median steps to the bar"]) == ["–", "150", "1,200"]
