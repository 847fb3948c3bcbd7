"""speed.csv as a table: merging a pass into the file, and the compact text summary that
`bench speed` prints (the rows themselves: bench/probes/speed.py)."""
from __future__ import annotations

import math

import pandas as pd

from bench.probes.speed import KEY


def merge(old: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """New rows replace old ones with the same KEY; sorted. Older files without the
    width_rule/batch_kind columns are read as equal-parameter, full-batch rows."""
    old = old.assign(**{k: old[k] if k in old else v for k, v in
                        (("width_rule", "params"), ("batch_kind", "full"))}) if not old.empty else old
    parts = [f for f in (old, frame) if not f.empty]
    merged = pd.concat(parts, ignore_index=True) if parts else frame
    merged = merged.drop_duplicates(subset=KEY, keep="last")
    return merged.sort_values(["device", "dtype", "width_rule", "batch_kind", "threads", "budget_params",
                               "model", "implementation", "batch", "length", "metric"], kind="stable")


def _human(value: float) -> str:
    if not math.isfinite(value):
        return "nan"
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.2f}{suffix}"
    return f"{value:.3g}"


SHOWN = ("train_tokens_per_s", "flops_share_of_peak", "infer_latency_ms", "peak_mem_bytes")


def summary(frame: pd.DataFrame, metrics: tuple[str, ...] = SHOWN) -> str:
    """A compact text table per metric: rows (setting, model, batch), columns length."""
    blocks = []
    for metric in metrics:
        part = frame[frame["metric"] == metric]
        if part.empty:
            continue
        shown = part.assign(shown=[(s if isinstance(s, str) and s != "ok" else _human(v))
                                   for s, v in zip(part["status"], part["value"], strict=True)],
                            setting=part["width_rule"] + "/" + part["batch_kind"] + "/t" + part["threads"].astype(str))
        table = shown.pivot_table(index=["setting", "model", "batch"], columns="length", values="shown",
                                  aggfunc="first", sort=False)
        blocks.append(f"{metric} (rows: setting, model, batch; columns: length)\n{table.to_string()}")
    return "\n\n".join(blocks)
