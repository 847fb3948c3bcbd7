"""Our numbers beside the published anchors (shared ANCHORS.md), at the closest setting that
fits on a 2-core CPU, with the settings that differ; a published setting that needs a GPU
says so. The published numbers are quoted constants (papers, example code); every number in
the "ours" column is read from a results folder's cells. Pure pandas, no torch."""
from __future__ import annotations

import math

import pandas as pd

from bench.analysis.variants import variant_values

# (anchor, published model, published number, published setting, our task, our model, metric,
#  what differs at our setting); task None: the published setting needs a GPU
KERAS_IMDB = "Keras IMDB example (word-level, 2 epochs)"
OUR_IMDB = ("BPE 16k, the last 256 tokens, 2 epochs, 100k core params, 2 layers, our own split (Keras validates "
            "on test)")
TALLEC = "Tallec & Ollivier 2018, chrono init (copy)"
TALLEC_ADDING = "Tallec & Ollivier 2018, chrono init (adding)"
TCN_ADDING, TCN_ADDING_SETTING = "TCN adding problem (MSE, lower is better)", "T=600, ~70K params, RMSprop"
OUR_ADDING = "T=50 (CPU), 100k core params, AdamW"
PUBLISHED = (
    (KERAS_IMDB, "bilstm", "0.8428", "2 x BiLSTM(64), emb 128, vocab 20k, maxlen 200",
     "imdb", "bilstm", "test_accuracy", OUR_IMDB),
    (KERAS_IMDB, "transformer", "0.8745", "1 block, emb 32, 2 heads, FF 32",
     "imdb", "transformer", "test_accuracy", OUR_IMDB),
    *((TCN_ADDING, model, number, TCN_ADDING_SETTING, "adding", model, "test_mse", OUR_ADDING)
      for model, number in (("lstm", "0.164"), ("gru", "5.3e-05"), ("rnn", "0.177"))),
    ("TCN copy memory", "lstm", "CE 0.0204 (= the blank-guessing baseline)", "T=1000, ~16K params",
     "copy", "lstm", "test_accuracy", "lag 32 (CPU); we score answer accuracy, not CE over all positions"),
    ("TCN copy memory", "gru", "CE 0.0197", "T=1000, ~16K params",
     "copy", "gru", "test_accuracy", "lag 32 (CPU); answer accuracy"),
    (TALLEC, "lstm [standard]", "stays at the memoryless baseline", "copy T=500 and 2000, 128-unit LSTM",
     "copy", "lstm [standard]", "test_accuracy", "lag 32 (CPU), 100k core params, answer accuracy"),
    (TALLEC, "lstm [chrono]", "learns the task (standard init does not)", "copy T=500 and 2000, 128-unit LSTM",
     "copy", "lstm [chrono]", "test_accuracy", "lag 32 (CPU), 100k core params, answer accuracy"),
    (TALLEC_ADDING, "lstm [standard]", "learns more slowly than chrono", "adding T=200 and 750, 128-unit LSTM",
     "adding", "lstm [standard]", "test_mse", "T=50 (CPU), 100k core params"),
    (TALLEC_ADDING, "lstm [chrono]", "learns faster than standard init", "adding T=200 and 750, 128-unit LSTM",
     "adding", "lstm [chrono]", "test_mse", "T=50 (CPU), 100k core params"),
    ("Zoology MQAR: attention solves it at every width", "transformer", "~1.0", "(64, 4 kv), vocab 8192, 2 layers",
     "mqar", "transformer", "test_accuracy", "vocab 256, 100k core params"),
    ("LRA ListOps", "transformer", "0.3637", "4 layers, emb 512, length up to 2000, 5K steps",
     None, "transformer", "test_accuracy", "needs a GPU (length 2000, 8.4M params)"),
    ("LRA Text (byte-level IMDB)", "transformer", "0.6427", "4 layers, emb 256, length 1000-4000, 20K steps",
     None, "transformer", "test_accuracy", "needs a GPU (length 1000+, 20K steps)"),
)


def _ours(summary: pd.DataFrame, task: str, model: str, metric: str) -> str:
    """`model` may name an init, 'lstm [chrono]': then `summary` must be per (cell, init)."""
    if summary is None or summary.empty or "task" not in summary:
        return "not run"
    name, _, init = model.partition(" [")
    rows = summary[(summary["task"] == task) & (summary["model"] == name) & (summary["n"] > 0)]
    if init:
        rows = rows[rows["init"] == init.rstrip("]")] if "init" in rows else rows.iloc[0:0]
    if rows.empty or metric not in rows or rows[metric].isna().all():
        return "not run"
    texts = []
    for row in rows.itertuples():
        value = getattr(row, metric)
        half = getattr(row, "ci95" if metric == "test_accuracy" else "test_mse_ci95", float("nan"))
        knobs = variant_values(row.variant)
        where = ", ".join(f"{k}={knobs[k]}" for k in ("distance", "lag", "length", "seq_len", "max_len") if k in knobs)
        fmt = ".3f" if metric == "test_accuracy" else ".3g"
        texts.append(f"{value:{fmt}}" + (f" ± {half:{fmt}}" if not math.isnan(half) else "")
                     + f" (n={row.n}{', ' + where if where else ''})")
    return "; ".join(texts)


def anchor_table(summary: pd.DataFrame, summary_init: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per published anchor: theirs, ours (mean ± 95% CI over seeds at the chosen lr,
    or `not run` / `needs a GPU`), and what differs. Rows naming an init ('lstm [chrono]')
    read `summary_init` (one row per cell and init)."""
    rows = []
    for anchor, their_model, number, setting, task, model, metric, differs in PUBLISHED:
        source = summary_init if "[" in model else summary
        ours = "needs a GPU" if task is None else _ours(source, task, model, metric)
        rows.append({"anchor": anchor, "model": their_model, "published": number, "published setting": setting,
                     "ours": ours, "metric": metric, "our setting differs in": differs})
    return pd.DataFrame(rows)
