"""The report's figures keep their rules (bench/report/figure.py): no interval outside [0, 1],
every seed drawn, titles that promise only what is drawn, ticks only at measured values in
plain numbers, coinciding lines both visible, each curve with its task's baseline or ceiling,
legends outside the data, and atomic saves."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection

from bench.analysis.labels import with_knob
from bench.report import figure as figure_module
from bench.report import plots, plots_cost, plots_curves, plots_probes

ORDER = ("rnn", "lstm", "gru", "bilstm", "transformer", "transformer_causal")


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plot functions draw, kept open instead of saved."""
    figures = []

    def keep(figure, path):
        figures.append(figure)
        return Path(path)

    for module in (plots, plots_cost, plots_curves, plots_probes):
        monkeypatch.setattr(module, "save", keep)
    yield figures
    plt.close("all")


def recall_runs(seeds=3) -> pd.DataFrame:
    """rnn falls (wide spread at 32), gru and transformer both at 1.0 everywhere; lstm in two inits."""
    rows = []
    for model, init, accuracies in (("rnn", "standard", {8: [1, 1, 1], 32: [0.9, 0.15, 0.12], 128: [0.13, 0.12, 0.14]}),
                                    ("lstm", "standard", {8: [1, 1, 1], 32: [0.3, 0.2, 0.9], 128: [0.12] * 3}),
                                    ("lstm", "chrono", {8: [1, 1, 1], 32: [1, 1, 1], 128: [1, 1, 0.95]}),
                                    ("gru", "standard", {8: [1] * 3, 32: [1] * 3, 128: [1] * 3}),
                                    ("transformer", "standard", {8: [1] * 3, 32: [1] * 3, 128: [1] * 3})):
        for distance, values in accuracies.items():
            for seed, value in enumerate(values[:seeds]):
                rows.append({"task": "recall", "variant": f"distance={distance},n_pairs=1", "model": model,
                             "init": init, "seed": seed, "status": "ok", "test_accuracy": float(value),
                             "trivial_baseline": 0.125, "run_id": f"{model}{init}{distance}{seed}", "wall_s": 10.0})
    return pd.DataFrame(rows)


def _vertical_spans(ax) -> list[tuple[float, float]]:
    spans = []
    for collection in ax.collections:
        if isinstance(collection, LineCollection):
            for segment in collection.get_segments():
                spans.append((float(np.min(segment[:, 1])), float(np.max(segment[:, 1]))))
    return spans


def test_headline_keeps_intervals_in_range_draws_every_seed_and_keeps_coinciding_lines_visible(drawn):
    runs = with_knob(recall_runs(), "distance")
    plots.headline(runs, Path("headline.png"), ORDER)
    [figure] = drawn
    ax = figure.axes[0]
    spans = _vertical_spans(ax)
    assert spans and all(0.0 <= low <= high <= 1.0 for low, high in spans)  # a t-interval of rnn@32 exceeds it
    points = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    assert points == len(runs)  # every seed is a point
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "32", "128"]  # ticks only at the data
    title = figure._suptitle.get_text()
    assert "seeds" in title and "95% interval" in title
    # gru and transformer coincide at 1.0: both drawn, in alternating dashes with different offsets
    flat = [line for line in ax.get_lines() if list(line.get_ydata()) == [1.0, 1.0] and len(line.get_xdata()) == 2]
    colors = {tuple(line.get_color()) if not isinstance(line.get_color(), str) else line.get_color() for line in flat}
    assert len(colors) >= 3  # lstm (chrono) 8-32, gru, transformer
    offsets = {line._unscaled_dash_pattern[0] for line in flat if line._unscaled_dash_pattern[1]}
    assert len(offsets) >= 2
    # the init is the line style: chrono dashed where it runs alone (32 -> 128 falls to 0.983)
    chrono = [line for line in ax.get_lines() if len(line.get_xdata()) == 2 and line.get_ydata()[1] < 0.99
              and line.get_ydata()[0] == 1.0 and line.get_linestyle() == "--"]
    assert chrono
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "lstm (chrono)" in labels and "lstm (standard)" in labels and "trivial baseline 0.125" in labels


def test_one_seed_per_cell_promises_no_interval(drawn):
    plots.headline(with_knob(recall_runs(seeds=1), "distance"), Path("h.png"), ORDER)
    title = drawn[0]._suptitle.get_text()
    assert "one seed" in title and "interval" not in title and not _vertical_spans(drawn[0].axes[0])


def test_solve_rate_panel_uses_the_exact_interval_within_range(drawn):
    runs = with_knob(recall_runs(), "distance")
    cells = (runs.groupby(["task", "variant", "model", "init"], as_index=False)["test_accuracy"].agg(["mean", "count"])
             .rename(columns={"mean": "test_accuracy", "count": "n"}))
    mean = cells["test_accuracy"]
    cells = cells.assign(ci_low=(mean - 0.5).clip(0, 1), ci_high=(mean + 0.5).clip(0, 1),
                         solve_rate=cells["test_accuracy"].round(), n_solved=cells["test_accuracy"].round() * 3,
                         solve_lo=0.0, solve_hi=1.0, trivial_baseline=0.125)
    plots.headline(runs, Path("h.png"), ORDER, cells=with_knob(cells, "distance"))
    [figure] = drawn
    assert len([ax for ax in figure.axes if ax.get_visible()]) == 2 and "solve rate" in figure.axes[1].get_ylabel()
    assert all(0.0 <= low <= high <= 1.0 for ax in figure.axes for low, high in _vertical_spans(ax))


@pytest.mark.parametrize("task, reference", [("fill_in", "left-only ceiling"), ("cloze", "bigram baseline"),
                                             ("imdb", "majority class")])
def test_every_curve_draws_its_baseline_or_ceiling(drawn, task, reference):
    curves = pd.DataFrame([{"run_id": f"{m}{s}", "task": task, "model": m, "variant": "default", "seed": s,
                            "step": step, "val_accuracy": 0.5 + 0.01 * step / 100}
                           for m in ("lstm", "transformer") for s in (0, 1) for step in (100, 200, 300)])
    levels = pd.DataFrame([{"run_id": f"{m}{s}", "variant": "default", "trivial_baseline": 0.5,
                            "bigram_baseline": 0.2, "left_only_ceiling": 0.12}
                           for m in ("lstm", "transformer") for s in (0, 1)])
    plots.training_curves(curves, Path("c.png"), ORDER, levels=levels)
    labels = [t.get_text() for t in drawn[0].legends[0].get_texts()]
    assert any(label.startswith(reference) for label in labels)
    lines = [line for line in drawn[0].axes[0].get_lines() if len(set(line.get_xdata())) > 1
             and len(line.get_xdata()) == 3]
    assert len(lines) == 4  # one line per seed


def test_speed_ticks_are_plain_numbers_and_the_axis_label_is_said_once(drawn):
    rows = pd.DataFrame([{"model": m, "line": f"{m}/impl", "setting": s, "length": t, "speedup": v}
                         for s in ("cpu 1 thread, batch 32 full", "cpu 2 threads, batch 32 full")
                         for m, v in (("lstm", 1.0), ("gru", 0.5), ("transformer", 0.25)) for t in (64, 256, 1024)])
    plots.speedup(rows, Path("s.png"), ORDER)
    [figure] = drawn
    figure.canvas.draw()
    texts = [t.get_text() for ax in figure.axes for t in ax.get_yticklabels() + ax.get_xticklabels() if t.get_text()]
    assert texts and not any("$" in t or "10^" in t or "×" in t for t in texts)
    assert {"64", "256", "1024"} <= set(texts) and "128" not in texts  # ticks only at measured lengths
    assert not any(ax.get_ylabel() for ax in figure.axes)  # one label for the figure, not one per panel
    assert figure.get_supylabel()


def test_gradflow_legends_sit_outside_the_data(drawn):
    rows = pd.DataFrame([{"kind": "position", "model": m, "phase": p, "quantity": "hidden", "distance": d,
                          "grad_norm": f ** d} for m, f in (("rnn", 0.5), ("lstm", 0.9)) for p in ("init", "trained")
                         for d in range(20)])
    plots.gradflow(rows, Path("g.png"), ORDER)
    [figure] = drawn
    figure.canvas.draw()
    for ax in figure.axes:
        legend, box = ax.get_legend(), ax.get_window_extent()
        assert legend is not None and legend.get_window_extent().y1 <= box.y0 + 1  # below the axes


def test_saves_are_atomic_and_complete(tmp_path):
    figure, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    path = figure_module.save(figure, tmp_path / "f.png")
    assert path == tmp_path / "f.png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png", "f.svg"]  # no temporary left


def test_clip_and_dodge():
    assert figure_module.clip01(-0.3, 1.4) == (0.0, 1.0)
    left, right = figure_module.dodge([32], 0, 2, True, 1.0), figure_module.dodge([32], 1, 2, True, 1.0)
    assert left[0] < 32 < right[0] and math.isclose(left[0] * right[0], 32 * 32)
