"""`bench report DIR`: tables, figures and claim verdicts for a results folder, as DIR/report.md.

Reads DIR/results.csv (rebuilt from DIR/runs/ when missing or stale), DIR/speed.csv and
DIR/gradflow.csv when present, and the training curves in DIR/runs/*.json. Writes
DIR/report.md and PNG figures beside it. Every number and verdict in the report comes from
these files by code; nothing is typed in by hand.

Summaries are per cell = (task, variant, model, budget_params). When a cell holds several
learning rates (an LR grid), the lr with the best mean val_accuracy over seeds is selected
(a diverged seed counts as val_accuracy 0) and only that lr's test scores are reported.
Test is never used for a choice. Means carry a 95% Student-t interval over seeds; n = 1
has no interval and is shown as such. Diverged runs are counted in every table.
"""
from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path

import pandas as pd

from bench.analysis import claims as claims_mod
from bench.analysis.claims import MODEL_ORDER, NOT_RUN, mean_ci, shared_settings, short_variant
from bench.analysis.variants import variant_values
from bench.execute.store import ID_COLUMNS, load_runs, load_table
from bench.probes.structure import structural_params  # moved: report will read structure.csv

CELL = ["task", "variant", "model", "budget_params"]
# the x axis of the "accuracy against length" figure: the knob each task sweeps
TASK_KNOBS = {"recall": "distance", "fill_in": "length", "adding": "length", "copy": "lag",
              "mqar": "seq_len", "selective_copy": "seq_len", "listops": "max_len",
              "cloze": "window", "imdb": "max_len", "imdb_bytes": "max_len"}
DIVERGED_VAL = 0.0  # a diverged seed's val_accuracy in LR selection


# ----------------------------------------------------------------------------- loading
load_results = load_table  # the store owns the folder layout


def read_optional(path: Path) -> pd.DataFrame:
    """A CSV beside the results (speed.csv, gradflow.csv), or an empty frame."""
    return pd.read_csv(path) if Path(path).exists() else pd.DataFrame()


def wide_runs(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run: the id columns plus one column per metric."""
    if table.empty:
        return pd.DataFrame(columns=ID_COLUMNS)
    ids = table[ID_COLUMNS].drop_duplicates("run_id").set_index("run_id")
    metrics = table.pivot_table(index="run_id", columns="metric", values="value", aggfunc="first")
    runs = ids.join(metrics).reset_index()
    runs["variant"] = runs["variant"].fillna("")
    return runs


def latest_versions(runs: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep each task's newest task_version; also return how many older runs were set aside."""
    if runs.empty:
        return runs, 0
    newest = runs.groupby("task")["task_version"].transform("max")
    keep = runs["task_version"] == newest
    return runs[keep].copy(), int((~keep).sum())


# ----------------------------------------------------------------------------- selection and summary
def select_lr(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per cell, the lr with the best mean val_accuracy over seeds (validation only).

    Returns (the runs at the selected lr, one row per cell and lr with its mean val_accuracy,
    n, and whether it was selected). Ties go to the smaller lr."""
    if runs.empty:
        return runs, pd.DataFrame()
    frame = runs.copy()
    val = frame["val_accuracy"] if "val_accuracy" in frame else pd.Series(math.nan, index=frame.index)
    frame["_val"] = val.where(frame["status"] != "diverged", DIVERGED_VAL)
    grid = (frame.groupby(CELL + ["lr"], dropna=False)
            .agg(mean_val_accuracy=("_val", "mean"), seeds=("seed", "nunique"),
                 diverged=("status", lambda s: int((s == "diverged").sum())))
            .reset_index())
    grid["_key"] = grid["mean_val_accuracy"].fillna(-1.0)
    best = grid.sort_values(["_key", "lr"], ascending=[False, True]).drop_duplicates(CELL)
    grid["selected"] = grid.set_index(CELL + ["lr"]).index.isin(best.set_index(CELL + ["lr"]).index)
    chosen = frame.merge(best[CELL + ["lr"]], on=CELL + ["lr"])
    return chosen.drop(columns="_val"), sort_cells(grid.drop(columns="_key"))


def natural_key(label: str) -> tuple:
    """Sort key for variant labels: numbers compare as numbers ('distance=8' < 'distance=32')."""
    key = []
    for part in str(label).split(","):
        name, _, value = part.partition("=")
        try:
            key.append((name, 0, float(value), ""))
        except ValueError:
            key.append((name, 1, 0.0, value))
    return tuple(key)


def sort_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by task, variant (natural order), model (MODEL_ORDER), then lr."""
    if frame.empty:
        return frame
    ranks = {v: i for i, v in enumerate(sorted(frame["variant"].unique(), key=natural_key))}
    keys = frame.assign(_variant=frame["variant"].map(ranks))
    by = ["task", "_variant"]
    if "model" in frame:
        models = sorted(frame["model"].unique(), key=lambda m: (
            MODEL_ORDER.index(m) if m in MODEL_ORDER else len(MODEL_ORDER), m))
        keys["_model"] = frame["model"].map({m: i for i, m in enumerate(models)})
        by.append("_model")
    by += ["lr"] if "lr" in frame else []
    sorted_ = keys.sort_values(by, kind="stable")
    return sorted_.drop(columns=[c for c in ("_variant", "_model") if c in sorted_]).reset_index(drop=True)


def summarize(selected: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: lr, n ok, n diverged, mean test accuracy ± CI, test mse (regression),
    trivial baseline, params_core/params_total, width, wall time."""
    rows = []
    for key, group in selected.groupby(CELL, sort=True, dropna=False):
        ok = group[group["status"] == "ok"]
        acc = mean_ci(ok.get("test_accuracy", pd.Series(dtype=float)))
        row = dict(zip(CELL, key, strict=True))
        row.update({"lr": group["lr"].iloc[0], "n": acc.n,
                    "diverged": int((group["status"] == "diverged").sum()),
                    "test_accuracy": acc.mean, "ci95": acc.half})
        if "test_mse" in ok and ok["test_mse"].notna().any():
            mse = mean_ci(ok["test_mse"])
            row.update({"test_mse": mse.mean, "test_mse_ci95": mse.half})
        for metric in ("trivial_baseline", "params_core", "params_total", "width", "wall_s"):
            if metric in group and group[metric].notna().any():
                row[metric] = float(group[metric].median())
        rows.append(row)
    return sort_cells(pd.DataFrame(rows))


def accuracy_matrix(selected: pd.DataFrame) -> pd.DataFrame:
    """Mean test accuracy per (task, variant) x model, each cell 'mean (n=k)'."""
    summary = summarize(selected)
    if summary.empty:
        return summary
    summary["variant"] = short_variant(summary)
    summary["cell"] = [_short(m, n, d) for m, n, d in
                       zip(summary["test_accuracy"], summary["n"], summary["diverged"], strict=True)]
    matrix = summary.pivot_table(index=["task", "variant"], columns="model", values="cell",
                                 aggfunc="first", sort=False).reset_index()
    matrix.columns.name = None
    models = [c for c in matrix.columns if c not in ("task", "variant")]
    order = sorted(models, key=lambda m: (MODEL_ORDER.index(m) if m in MODEL_ORDER else len(MODEL_ORDER), m))
    return matrix[["task", "variant", *order]].fillna("–")


def _short(mean: float, n: int, diverged: int) -> str:
    text = "–" if n == 0 else f"{mean:.3f} (n={n})"
    return text + (f", {diverged} diverged" if diverged else "")


def shared_text(frame: pd.DataFrame) -> list[str]:
    """Markdown lines naming each task's shared settings (what the short labels leave out)."""
    return [f"- `{task}` in every variant: {', '.join(f'{k}={v}' for k, v in knobs.items()) or '–'}"
            for task, knobs in shared_settings(frame).items()]


def knob_for(task: str, runs: pd.DataFrame) -> str:
    """The x axis for a task: its knob from TASK_KNOBS if the variant labels carry it,
    else 'distance' or 'length' from the label, else the `length` column."""
    labels = runs.loc[runs["task"] == task, "variant"].map(variant_values)
    keys = set().union(*labels) if len(labels) else set()
    for knob in (TASK_KNOBS.get(task), "distance", "length"):
        if knob and knob in keys:
            return knob
    return "length"


def with_x(runs: pd.DataFrame, task: str) -> tuple[pd.DataFrame, str]:
    """The task's runs with a numeric column named by its knob and `rest` (the other knobs)."""
    knob = knob_for(task, runs)
    frame = runs[runs["task"] == task]
    parsed = frame["variant"].map(variant_values)
    if parsed.map(lambda v: knob in v).all() and len(frame):
        return claims_mod.with_knob(frame, knob), knob
    frame = frame.copy()
    frame["rest"] = ""
    frame[knob] = pd.to_numeric(frame["length"], errors="coerce")
    return frame, knob


# ----------------------------------------------------------------------------- markdown
def human(value: float) -> str:
    """3 significant digits with a k/M/G suffix: 36470.2 -> '36.5k'."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def markdown(frame: pd.DataFrame, floatfmt: str = ".3f", numbers=None) -> str:
    """A GitHub markdown table (no tabulate dependency). NaN prints as '–'; a column whose
    numbers are all whole prints as integers; `numbers` (a function) formats every other float."""
    if frame is None or frame.empty:
        return "_(none)_\n"
    whole = {c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])
             and frame[c].dropna().map(float.is_integer).all()}

    def cell(value, column) -> str:
        if isinstance(value, float):
            if math.isnan(value):
                return "–"
            if column in whole:
                return f"{int(value):,}" if abs(value) >= 1e4 else str(int(value))
            if numbers is not None:
                return numbers(value)
            return format(value, floatfmt) if abs(value) < 1e4 else f"{value:.4g}"
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v, c) for v, c in zip(row, frame.columns, strict=True)) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def score_text(mean: float, half: float, n: int) -> str:
    if n == 0:
        return "–"
    if n == 1 or math.isnan(half):
        return f"{mean:.3f} (n=1, no CI)"
    return f"{mean:.3f} ± {half:.3f}"


def task_table(summary: pd.DataFrame, task: str) -> pd.DataFrame:
    rows = summary[summary["task"] == task]
    table = pd.DataFrame({
        "variant": short_variant(rows), "model": rows["model"], "budget": rows["budget_params"],
        "lr": [f"{lr:g}" for lr in rows["lr"]],
        "test accuracy (95% CI)": [score_text(m, h, n) for m, h, n in
                                   zip(rows["test_accuracy"], rows["ci95"], rows["n"], strict=True)],
        "n": rows["n"], "diverged": rows["diverged"]})
    if "test_mse" in rows and rows["test_mse"].notna().any():
        table["test mse (95% CI)"] = [score_text(m, h, n) for m, h, n in
                                      zip(rows["test_mse"], rows["test_mse_ci95"], rows["n"],
                                          strict=True)]
    for column in ("trivial_baseline", "params_core", "params_total", "width"):
        if column in rows:
            table[column] = rows[column].values
    return table


def environment(out: Path, records: list[dict]) -> pd.DataFrame:
    """Device, torch, git commit, python per distinct environment, with the run count and the
    dates the run files were written."""
    rows = []
    for record in records:
        env = record.get("environment", {})
        path = Path(out) / "runs" / f"{record['run_id']}.json"
        written = _dt.datetime.fromtimestamp(path.stat().st_mtime) if path.exists() else None
        rows.append({"device": env.get("device", record["config"].get("device")),
                     "device_name": env.get("device_name", ""), "torch": env.get("torch", ""),
                     "python": env.get("python", ""), "git_commit": env.get("git_commit", ""),
                     "threads": env.get("threads", ""), "written": written})
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows).fillna("")
    keys = ["device", "device_name", "torch", "python", "git_commit", "threads"]
    return (frame.groupby(keys, dropna=False)
            .agg(runs=("written", "size"), first=("written", "min"), last=("written", "max"))
            .reset_index()
            .assign(first=lambda f: f["first"].map(_date), last=lambda f: f["last"].map(_date)))


def _environment_section(out: Path, records: list[dict], runs: pd.DataFrame) -> list[str]:
    lines = ["## Environment", ""]
    if records:
        return lines + ["Per distinct environment of the run records (`written`: when the run files "
                        "were written):", "", markdown(environment(out, records)), ""]
    devices = ", ".join(sorted(map(str, runs["device"].unique()))) if not runs.empty else "–"
    return lines + [f"No run records (runs/) in this folder, only results.csv: devices {devices}; "
                    "torch version, git commit and dates are unknown.", ""]


def _date(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, _dt.datetime) else ""


# ----------------------------------------------------------------------------- speed
def ok_speed(speed: pd.DataFrame, metric: str = "train_tokens_per_s") -> pd.DataFrame:
    """The status-ok rows of one speed metric, with `line` (model/implementation) and `setting`."""
    rows = speed[speed["metric"] == metric]
    if "status" in rows:
        rows = rows[rows["status"] == "ok"]
    rows = rows.dropna(subset=["value"]).copy()
    rows["line"] = rows["model"] + ("/" + rows["implementation"].astype(str)
                                    if "implementation" in rows else "")
    rows["setting"] = claims_mod.speed_setting(rows)
    return rows


def speed_ratios(speed: pd.DataFrame, baseline: str = "lstm") -> pd.DataFrame:
    """Training-throughput speedup of every model over `baseline` at the same device, dtype,
    batch, budget and length: bench.probes.speed.speedup_over when that module provides it, else the
    same ratio computed here (the baseline's fastest implementation)."""
    try:
        from bench.probes.speed import speedup_over  # the speed command's own definition
    except ImportError:
        speedup_over = None
    rows = ok_speed(speed)
    if speedup_over is not None and "status" in speed:
        result = speedup_over(speed, baseline=baseline, metrics=("train_tokens_per_s",))
    else:
        keys = [k for k in ("device", "dtype", "budget_params", "length", "batch") if k in rows]
        base = (rows[rows["model"] == baseline].groupby(keys)["value"].max()
                .rename("baseline_value").reset_index())
        result = rows.merge(base, on=keys)
        result["speedup"] = result["value"] / result["baseline_value"]
    result = result[result["metric"] == "train_tokens_per_s"].copy()
    result["line"] = result["model"] + ("/" + result["implementation"].astype(str)
                                        if "implementation" in result else "")
    result["setting"] = claims_mod.speed_setting(result)
    return result


def throughput_table(speed: pd.DataFrame) -> pd.DataFrame:
    """Training tokens/s: rows (setting, model/implementation), columns sequence length."""
    table = ok_speed(speed).pivot_table(index=["setting", "line"], columns="length", values="value",
                                        aggfunc="mean").reset_index()
    table.columns.name = None
    return table


def harness_efficiency(runs: pd.DataFrame, speed: pd.DataFrame) -> pd.DataFrame:
    """Per (model, device, length, batch, budget): the runs' end-to-end training tokens/s
    (mean over seeds; validation time excluded) divided by the raw training-step tokens/s that
    `bench speed` measured for the same model at the same device, length, batch and budget.
    Near 1: the loop adds little beyond the model's own step (data already on the device,
    no per-step host sync). Empty when no run has a matching speed row."""
    columns = ["model", "device", "length", "batch", "budget_params", "run_tokens_per_s",
               "raw_tokens_per_s", "efficiency"]
    rows = ok_speed(speed) if not speed.empty else pd.DataFrame()
    if runs.empty or rows.empty or "train_tokens_per_s" not in runs:
        return pd.DataFrame(columns=columns)
    keys = ["model", "device", "length", "batch", "budget_params"]
    measured = (runs.rename(columns={"batch_size": "batch"}).dropna(subset=["train_tokens_per_s"])
                .groupby(keys)["train_tokens_per_s"].mean().rename("run_tokens_per_s").reset_index())
    raw = rows.groupby(keys)["value"].max().rename("raw_tokens_per_s").reset_index()
    for frame in (measured, raw):
        frame["length"] = frame["length"].astype(int)
        frame["batch"] = frame["batch"].astype(int)
        frame["budget_params"] = frame["budget_params"].astype(int)
    joined = measured.merge(raw, on=keys)
    joined["efficiency"] = joined["run_tokens_per_s"] / joined["raw_tokens_per_s"]
    return joined[columns].sort_values(keys).reset_index(drop=True)


# ----------------------------------------------------------------------------- the report
def build_report(out: Path, compare_dir: Path | None = None, plots: bool = True) -> Path:
    """Write DIR/report.md and its figures; returns the report's path."""
    from bench.report import plots as report_plots  # matplotlib only when a report is built

    out = Path(out)
    if not out.is_dir():
        raise ValueError(f"results folder {out} does not exist")
    table = load_results(out)
    records = load_runs(out) if (out / "runs").is_dir() else []
    all_runs = wide_runs(table)
    runs, older = latest_versions(all_runs)
    selected, grid = select_lr(runs)
    summary = summarize(selected)
    speed = read_optional(out / "speed.csv")
    gradflow = read_optional(out / "gradflow.csv")
    structure = structural_params()
    verdicts = claims_mod.evaluate_claims(selected, speed, gradflow, structure)

    lines = [f"# Benchmark report: `{out}`", "",
             f"Generated {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by `python -m bench report` "
             "from the files in this folder; every number and verdict below is computed by code "
             "(bench/report.py, bench/claims.py).", ""]
    lines += _overview(runs, older)
    lines += _how_to_read()
    lines += _environment_section(out, records, all_runs)
    lines += _claims_section(verdicts)
    lines += _results_section(out, selected, grid, summary, records, plots, report_plots)
    lines += _speed_section(out, speed, plots, report_plots, selected)
    lines += _gradflow_section(out, gradflow, plots, report_plots)
    if compare_dir is not None:
        from bench.analysis.reproduce import compare_dirs
        moved = compare_dirs(out, Path(compare_dir))
        lines += [f"## Reproduction check against `{compare_dir}`", "",
                  "Per cell: does this folder's mean test accuracy fall inside the other folder's "
                  "95% CI (n=1 there: within ±0.1)? Cells that moved are marked.", "",
                  markdown(moved), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _overview(runs: pd.DataFrame, older: int) -> list[str]:
    if runs.empty:
        return ["**No runs in this folder.** Every run-based claim below is `not run`.", ""]
    counts = runs["status"].value_counts().to_dict()
    text = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    lines = [f"**{len(runs)} runs** ({text}) over tasks {', '.join(sorted(runs['task'].unique()))}; "
             f"models {', '.join(sorted(runs['model'].unique()))}.", ""]
    if older:
        lines += [f"{older} runs of older task versions are not summarized (a changed task is a "
                  "new experiment).", ""]
    return lines


def _how_to_read() -> list[str]:
    return ["## How to read this report", "",
            "- A **cell** is (task, variant, model, parameter budget). Its score is the mean test "
            "accuracy over seeds ± the 95% Student-t confidence half-width; `n=1, no CI` means one "
            "seed, so no interval exists.",
            "- With several learning rates per cell, the lr with the best mean **validation** "
            "accuracy is selected (diverged seeds count as 0); only its test score is shown.",
            "- `diverged` counts runs whose loss went non-finite; they have no test score and are "
            "never dropped silently.",
            "- The **trivial baseline** is the accuracy of the best constant answer (chance).",
            "- **Verdicts**: `supported` / `refuted` need 95% CIs that do not overlap (or, with one "
            "seed, a difference beyond a stated margin); overlapping intervals give "
            "`inconclusive`; a claim whose runs are missing is `not run`. Each claim lists its "
            "rule, its parts and the numbers.", ""]


def _claims_section(verdicts: list[claims_mod.Claim]) -> list[str]:
    lines = ["## Claims", "", "| # | claim | verdict |", "|---|---|---|"]
    lines += [f"| {c.number} | {c.statement} | **{c.verdict}** |" for c in verdicts]
    lines.append("")
    for claim in verdicts:
        lines += [f"### Claim {claim.number}: {claim.verdict}", "", claim.statement, "",
                  f"Rule: {claim.rule}", ""]
        lines += [f"- {p.name}: **{p.verdict}** — {p.detail}" for p in claim.parts]
        lines.append("")
        if claim.verdict != NOT_RUN and claim.evidence is not None and not claim.evidence.empty:
            lines += ["<details><summary>numbers</summary>", "", markdown(claim.evidence), "</details>", ""]
    return lines


def _results_section(out, selected, grid, summary, records, plots, report_plots) -> list[str]:
    lines = ["## Results", ""]
    if selected.empty:
        return lines + ["_(no runs)_", ""]
    lines += ["### Mean test accuracy per task variant x model (number of seeds)", "",
              markdown(accuracy_matrix(selected)), "", "Variant labels omit the settings shared "
              "by every variant of a task:", "", *shared_text(selected), ""]
    lrs = grid.groupby(CELL)["lr"].nunique()
    if not (lrs > 1).any():
        lines += [f"One learning rate per cell ({', '.join(f'{v:g}' for v in sorted(grid['lr'].unique()))}): "
                  "no selection was made.", ""]
    else:
        values = ", ".join(f"{v:g}" for v in sorted(grid["lr"].unique()))
        chosen = grid[grid["selected"]].groupby("lr").size()
        lines += ["### Learning-rate selection", "",
                  f"Grid: lr in {{{values}}}. Rule: per cell, the lr with the best mean validation "
                  f"accuracy over seeds (diverged seeds count as {DIVERGED_VAL:g}; ties to the smaller "
                  "lr); test scores are reported at that lr only, never chosen on test. Selected: "
                  + ", ".join(f"lr={lr:g} in {n} cells" for lr, n in chosen.items()) + ".", "",
                  "<details><summary>validation accuracy per lr</summary>", "",
                  markdown(grid.assign(variant=short_variant(grid), lr=grid["lr"].map("{:g}".format))),
                  "</details>", ""]
    for task in sorted(summary["task"].unique()):
        lines += [f"### Task `{task}`", "", markdown(task_table(summary, task)), ""]
    if not plots:
        return lines
    figures = []
    for task in sorted(selected["task"].unique()):
        frame, knob = with_x(selected, task)
        if frame[knob].nunique() >= 2:
            path = report_plots.accuracy_vs_knob(frame, task, knob, out / f"accuracy_vs_{knob}_{task}.png")
            figures.append((f"{task}: test accuracy against {knob} (band: 95% CI over seeds)", path))
    figures.append(("test accuracy against core parameters",
                    report_plots.accuracy_vs(selected, "params_core", out / "accuracy_vs_params.png")))
    figures.append(("test accuracy against training wall time (grey: the cost-quality frontier)",
                    report_plots.accuracy_vs(selected, "wall_s", out / "accuracy_vs_wall_time.png")))
    curves = curve_frame(records, selected)
    for task in sorted(curves["task"].unique()) if not curves.empty else []:
        frame = curves[curves["task"] == task]
        frame = sort_cells(frame).assign(variant=lambda f: short_variant(f))
        path = report_plots.training_curves(frame, out / f"curves_{task}.png")
        figures.append((f"{task}: validation accuracy against step (band: 95% CI over seeds)", path))
    lines += ["### Figures", ""]
    for caption, path in figures:
        if path is not None:
            lines += [f"**{caption}**", "", f"![{caption}]({Path(path).name})", ""]
    if not records:
        lines += ["_No runs/ folder: training curves not drawn._", ""]
    return lines


def curve_frame(records: list[dict], selected: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, validation point) for the selected runs."""
    keep = set(selected["run_id"]) if not selected.empty else set()
    rows = [{"run_id": r["run_id"], "task": r["config"]["task"], "model": r["config"]["model"],
             "variant": ",".join(f"{k}={v}" for k, v in sorted(r["config"]["variant"].items())),
             "seed": r["config"]["seed"], **point}
            for r in records if r["run_id"] in keep for point in r.get("curve", [])]
    return pd.DataFrame(rows)


def _speed_section(out, speed, plots, report_plots, runs=None) -> list[str]:
    lines = ["## Speed", ""]
    if speed.empty:
        return lines + ["_No speed.csv in this folder (`python -m bench speed --out DIR` writes it); "
                        "claims 3 and 5 fall back to the runs' train_tokens_per_s._", ""]
    rows = ok_speed(speed)
    if rows.empty:
        return lines + ["_speed.csv holds no ok train_tokens_per_s rows._", ""]
    about = [c for c in ("device_name", "torch", "budget_params") if c in rows]
    if about:
        lines += ["Settings measured: " + "; ".join(
            f"{setting} ({', '.join(f'{c}={g[c].iloc[0]}' for c in about)})"
            for setting, g in rows.groupby("setting")) + ".", ""]
    ratios = speed_ratios(speed)
    speedups = ratios.pivot_table(index=["setting", "line"], columns="length", values="speedup",
                                  aggfunc="mean").reset_index()
    speedups.columns.name = None
    lines += ["Training tokens/s (median over repeats) against sequence length:", "",
              markdown(throughput_table(speed), numbers=human), "",
              "Speedup over the LSTM (training tokens/s ratio at the same setting and length; > 1 "
              "is faster):", "", markdown(speedups, numbers="{:.2f}".format), ""]
    efficiency = harness_efficiency(runs if runs is not None else pd.DataFrame(), speed)
    lines += ["Harness efficiency: each run's end-to-end training tokens/s over the raw training-step "
              "tokens/s `bench speed` measured for the same model, device, length, batch and budget "
              "(1.0 = the loop costs nothing beyond the model's step):", ""]
    lines += ([markdown(efficiency, numbers="{:.3g}".format), ""] if not efficiency.empty else
              ["_No run matches a speed row (same model, device, length, batch and budget); run "
               "`bench speed` at the runs' settings to fill this table._", ""])
    if plots:
        for name, path in (("throughput against length (log-log)",
                            report_plots.throughput(rows, out / "throughput_vs_length.png")),
                           ("speedup over LSTM",
                            report_plots.speedup(ratios, out / "speedup_over_lstm.png"))):
            if path is not None:
                lines += [f"![{name}]({path.name})", ""]
    return lines


def _gradflow_section(out, gradflow, plots, report_plots) -> list[str]:
    lines = ["## Gradient flow", ""]
    if gradflow.empty:
        return lines + ["_No gradflow.csv in this folder (`python -m bench gradflow --out DIR` writes "
                        "it); claims 6 and 7 are `not run`._", ""]
    position = gradflow[gradflow["kind"] == "position"] if "kind" in gradflow else gradflow.iloc[0:0]
    if not position.empty:
        far = int(position["distance"].max())
        picked = [d for d in (1, 4, 16, far) if d <= far]
        table = (position[position["distance"].isin(picked)]
                 .pivot_table(index=["quantity", "phase", "model"], columns="distance",
                              values="grad_norm", aggfunc="median").reset_index())
        table.columns = [c if isinstance(c, str) else f"d={c:g}" for c in table.columns]
        rank = {m: i for i, m in enumerate(MODEL_ORDER)}
        table = table.sort_values(["quantity", "phase", "model"],
                                  key=lambda s: s.map(rank).fillna(len(rank)) if s.name == "model" else s)
        lines += ["Mean over examples of |dL/d state| at a position `d` steps before the loss "
                  "(`hidden`: the recurrent state of every layer; `input`: the encoder input), at "
                  "initialisation and after brief training on recall:", "",
                  markdown(table, numbers="{:.2e}".format), ""]
    if plots:
        path = report_plots.gradflow(gradflow, out / "gradflow.png")
        if path is not None:
            lines += ["![gradient flow](gradflow.png)", ""]
    return lines
