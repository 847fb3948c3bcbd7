"""Speed tables from `bench speed` rows (speed.csv): the one definition of a speed-up.

A *setting* is everything a throughput depends on besides the model and the length: device,
device_name, threads, dtype, batch, batch_kind ("full" or "ragged"), width_rule ("params":
equal core parameters, "width": equal width) and the size (budget_params under the params
rule, width under the width rule). Ratios are only ever taken within one setting. Old files
without width_rule / batch_kind were measured at equal parameters on full batches.
Pure pandas (no torch).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SETTING = ["device", "device_name", "threads", "dtype", "batch", "batch_kind", "width_rule"]
DEFAULTS = {"width_rule": "params", "batch_kind": "full"}  # what files without the column measured
THROUGHPUT = ("train_tokens_per_s", "infer_tokens_per_s", "achieved_flops")  # higher is faster
LATENCY = ("infer_latency_ms",)  # lower is faster


def normalize(speed: pd.DataFrame) -> pd.DataFrame:
    """Copy with the defaults filled in and a `size` column (budget_params or width by rule)."""
    frame = speed.copy()
    for column, default in DEFAULTS.items():
        frame[column] = frame[column].fillna(default) if column in frame else default
    budget = frame["budget_params"] if "budget_params" in frame else pd.Series(np.nan, index=frame.index)
    width = frame["width"] if "width" in frame else pd.Series(np.nan, index=frame.index)
    frame["size"] = budget.where(frame["width_rule"] != "width", width)
    return frame


def setting_keys(frame: pd.DataFrame) -> list[str]:
    """The setting columns this frame has (after normalize), plus size."""
    return [c for c in SETTING if c in frame] + ["size"]


def setting_label(row) -> str:
    """'cpu (Intel Xeon, 2 threads) fp32, batch 32 full, equal params' for one row (a Series)."""
    get = lambda c: row.get(c) if c in row and not pd.isna(row.get(c)) else None  # noqa: E731
    inside = [str(x) for x in (get("device_name"),) if x]
    if get("threads") is not None:
        threads = int(float(get("threads")))
        inside.append(f"{threads} thread{'s' if threads != 1 else ''}")
    text = str(get("device") or "?") + (f" ({', '.join(inside)})" if inside else "")
    text += f" {get('dtype')}" if get("dtype") else ""
    if get("batch") is not None:
        text += f", batch {int(float(get('batch')))}" + (f" {get('batch_kind')}" if get("batch_kind") else "")
    rule = get("width_rule")
    return text + (", equal width" if rule == "width" else ", equal params" if rule else "")


def ok_rows(speed: pd.DataFrame, metric: str = "train_tokens_per_s") -> pd.DataFrame:
    """The status-ok, finite rows of one metric, normalized, with `line` (model/implementation)
    and `setting` (a readable label)."""
    if speed is None or speed.empty or "metric" not in speed:
        return pd.DataFrame(columns=["model", "length", "value", "line", "setting"])
    rows = speed[speed["metric"] == metric]
    if "status" in rows:
        rows = rows[rows["status"] == "ok"]
    rows = normalize(rows.dropna(subset=["value"]))
    rows["line"] = rows["model"] + ("/" + rows["implementation"].astype(str) if "implementation" in rows else "")
    rows["setting"] = [setting_label(r) for _, r in rows.iterrows()]
    return rows


def speedup_over(frame: pd.DataFrame, baseline: str = "lstm",
                 metrics: tuple[str, ...] = ("train_tokens_per_s", "infer_tokens_per_s", "infer_latency_ms"),
                 ) -> pd.DataFrame:
    """Each model's speed-up over `baseline` in the same setting (module docstring) and length.

    speedup > 1 means faster than the baseline: value / baseline for throughputs, baseline /
    value for infer_latency_ms. Only status-ok rows; cells without an ok baseline row are left
    out. If the baseline has several implementations there (eager and compiled), the fastest
    is the baseline. Columns: model, implementation, device, dtype, budget_params, length,
    batch, metric, value, baseline, baseline_value, speedup, plus the setting columns present.
    """
    unknown = sorted(set(metrics) - set(THROUGHPUT) - set(LATENCY))
    if unknown:
        raise ValueError(f"speedup_over: no speed-up for {unknown[0]!r}; valid: "
                         f"{', '.join(THROUGHPUT + LATENCY)}")
    ok = frame[frame["metric"].isin(metrics)]
    ok = normalize(ok[ok["status"] == "ok"] if "status" in ok else ok)
    cell = setting_keys(ok) + ["length", "metric"]
    base = ok[ok["model"] == baseline]
    lower = base["metric"].isin(LATENCY)
    best = pd.concat([base[~lower].groupby(cell, as_index=False, dropna=False)["value"].max(),
                      base[lower].groupby(cell, as_index=False, dropna=False)["value"].min()])
    merged = ok.merge(best.rename(columns={"value": "baseline_value"}), on=cell, how="inner")
    ratio = merged["value"] / merged["baseline_value"]
    merged["speedup"] = ratio.where(~merged["metric"].isin(LATENCY), 1.0 / ratio)
    merged["baseline"] = baseline
    columns = ["model", "implementation", "device", "dtype", "budget_params", "length", "batch",
               "metric", "value", "baseline", "baseline_value", "speedup"]
    extra = [c for c in SETTING + ["width", "size"] if c in merged and c not in columns]
    return merged[[c for c in columns + extra if c in merged]].reset_index(drop=True)


def fastest(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (setting, model, length), the fastest implementation's row (rows from ok_rows)."""
    if rows.empty:
        return rows
    keys = setting_keys(rows) + ["model", "length"]
    index = rows.groupby(keys, dropna=False)["value"].idxmax()
    return rows.loc[index.values].reset_index(drop=True)


def pair_ratios(speed: pd.DataFrame, top: str, bottom: str) -> pd.DataFrame:
    """Training tokens/s(top) / tokens/s(bottom), each its fastest implementation, per
    (setting, length): columns setting keys, setting, length, ratio, top_impl, bottom_impl."""
    rows = fastest(ok_rows(speed))
    columns = ["setting", "length", "ratio", "top_impl", "bottom_impl"]
    if rows.empty or top not in set(rows["model"]) or bottom not in set(rows["model"]):
        return pd.DataFrame(columns=columns)
    keys = setting_keys(rows) + ["length"]
    impl = rows["implementation"] if "implementation" in rows else pd.Series("", index=rows.index)
    rows = rows.assign(implementation=impl.astype(str))
    a = rows[rows["model"] == top][keys + ["setting", "value", "implementation"]]
    b = rows[rows["model"] == bottom][keys + ["value", "implementation"]]
    merged = a.merge(b, on=keys, suffixes=("_top", "_bottom"))
    merged["ratio"] = merged["value_top"] / merged["value_bottom"]
    merged = merged.rename(columns={"implementation_top": "top_impl", "implementation_bottom": "bottom_impl"})
    return merged[keys + columns[:1] + columns[2:]].sort_values(["setting", "length"]).reset_index(drop=True)


def _by_length(rows: pd.DataFrame, values: str) -> pd.DataFrame:
    """Rows (setting, line) x columns sequence length of `values` (empty stays empty)."""
    if rows.empty:
        return pd.DataFrame()
    table = rows.pivot_table(index=["setting", "line"], columns="length", values=values,
                             aggfunc="mean").reset_index()
    table.columns.name = None
    return table


def throughput_table(speed: pd.DataFrame) -> pd.DataFrame:
    """Training tokens/s: rows (setting, model/implementation), columns sequence length."""
    return _by_length(ok_rows(speed), "value")


def metric_table(speed: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Any metric's ok rows: rows (setting, model/implementation), columns sequence length;
    e.g. flops_share_of_peak (achieved FLOP/s over the GEMM peak measured in the same cell)
    or peak_mem_bytes (one training step)."""
    return _by_length(ok_rows(speed, metric), "value")


def gemm_peaks(speed: pd.DataFrame) -> pd.DataFrame:
    """The machine's measured GEMM peak per setting: columns setting, peak_flops (median over
    the setting's cells), low, high (their range), cells. Empty for files from before it."""
    rows = ok_rows(speed, "gemm_peak_flops")
    if rows.empty:
        return pd.DataFrame(columns=["setting", "peak_flops", "low", "high", "cells"])
    cells = rows.drop_duplicates(subset=setting_keys(rows) + ["length"])
    table = cells.groupby("setting")["value"].agg(peak_flops="median", low="min", high="max", cells="size")
    return table.reset_index()


def speedup_table(speed: pd.DataFrame, baseline: str = "lstm") -> pd.DataFrame:
    """Training-throughput speed-up over `baseline`: rows (setting, model/implementation),
    columns sequence length (> 1: faster than the baseline)."""
    return _by_length(speedup_ratios(speed, baseline), "speedup")


def speedup_ratios(speed: pd.DataFrame, baseline: str = "lstm") -> pd.DataFrame:
    """speedup_over on training tokens/s, with `line` and `setting` labels (for tables, plots)."""
    if speed is None or speed.empty or "metric" not in speed:
        return pd.DataFrame()
    result = speedup_over(speed, baseline=baseline, metrics=("train_tokens_per_s",))
    result["line"] = result["model"] + ("/" + result["implementation"].astype(str)
                                        if "implementation" in result else "")
    result["setting"] = [setting_label(r) for _, r in result.iterrows()]
    return result


def thread_scaling(speed: pd.DataFrame) -> pd.DataFrame:
    """What a second core buys: per model and length, training tokens/s at the most threads
    measured over tokens/s at the fewest, in the same setting otherwise (full batches, equal
    parameters). 1.0: the model cannot use the extra core; 2.0: perfect scaling."""
    rows = ok_rows(speed)
    if rows.empty or "threads" not in rows or rows["threads"].nunique() < 2:
        return pd.DataFrame()
    rows = rows[(rows["width_rule"] == "params") & (rows["batch_kind"] == "full")]
    lo, hi = rows["threads"].min(), rows["threads"].max()
    by = rows.groupby(["model", "length", "threads"])["value"].max().unstack("threads")
    if lo not in by or hi not in by:
        return pd.DataFrame()
    ratio = (by[hi] / by[lo]).dropna().rename("scaling").reset_index()
    table = ratio.pivot_table(index="model", columns="length", values="scaling").reset_index()
    table.columns.name = None
    return table.rename(columns={"model": f"model ({int(hi)} / {int(lo)} threads)"})


def harness_efficiency(runs: pd.DataFrame, speed: pd.DataFrame) -> pd.DataFrame:
    """Per (model, device, threads, length, batch, budget): the runs' training tokens/s (mean
    over seeds) divided by the raw training-step tokens/s that `bench speed` measured for the
    same model at the same device, thread count, length, batch and budget (full batches at
    equal parameters). Two ratios: `efficiency` end to end (run_tokens_per_s: the whole run,
    validation included; the harness's real cost) and `efficiency_train` (training steps only,
    validation excluded). Near 1: the loop adds little beyond the model's own step. Empty when
    nothing matches (the runs' lengths are not among the sweep's)."""
    columns = ["model", "device", "threads", "length", "batch", "budget_params", "run_tokens_per_s",
               "train_tokens_per_s", "raw_tokens_per_s", "efficiency", "efficiency_train"]
    rows = ok_rows(speed) if speed is not None and not speed.empty else pd.DataFrame()
    if runs is None or runs.empty or rows.empty or "train_tokens_per_s" not in runs:
        return pd.DataFrame(columns=columns)
    rows = rows[(rows["width_rule"] == "params") & (rows["batch_kind"] == "full")]
    runs = runs.rename(columns={"batch_size": "batch"})
    if "run_tokens_per_s" not in runs:  # records from before the end-to-end figure existed
        runs = runs.assign(run_tokens_per_s=float("nan"))
    keys = ["model", "device", "length", "batch", "budget_params"]
    if "threads" in runs and "threads" in rows and runs["threads"].notna().any():
        keys.insert(2, "threads")
    measured = (runs.dropna(subset=["train_tokens_per_s"]).groupby(keys)[["run_tokens_per_s", "train_tokens_per_s"]]
                .mean().reset_index())
    raw = rows.groupby(keys)["value"].max().rename("raw_tokens_per_s").reset_index()
    for frame in (measured, raw):
        for column in ("length", "batch", "budget_params") + (("threads",) if "threads" in keys else ()):
            frame[column] = frame[column].astype(int)
    joined = measured.merge(raw, on=keys)
    joined["efficiency"] = joined["run_tokens_per_s"] / joined["raw_tokens_per_s"]
    joined["efficiency_train"] = joined["train_tokens_per_s"] / joined["raw_tokens_per_s"]
    if "threads" not in joined:
        joined["threads"] = float("nan")
    return joined[columns].sort_values(keys).reset_index(drop=True)
