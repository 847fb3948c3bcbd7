"""The report's opening answer is computed from the cells, sentence by sentence."""
import pandas as pd

from bench.analysis.answer import answer, headline, memory_lines, speed_ratios, task_line


def cell(task, variant, model, acc, base, n=6, ci=0.01, init="standard", solved=None, **extra):
    row = {"task": task, "variant": variant, "model": model, "init": init, "test_accuracy": acc, "ci95": ci, "n": n,
           "trivial_baseline": base, **extra}
    if solved is not None:
        row.update({"n_solved": solved, "solve_rate": solved / n})
    return row


MEMORY = [cell("recall", f"distance={d},n_pairs=1", m, 1.0 if k == 6 else 0.13, 0.125, init=init, solved=k)
          for m, init, ks in (("rnn", "standard", (6, 1, 0)), ("lstm", "standard", (6, 0, 0)),
                              ("lstm", "chrono", (6, 6, 6)), ("transformer_causal", "standard", (6, 6, 6)))
          for d, k in zip((8, 32, 128), ks)]


def test_memory_lines_say_how_far_each_model_remembers_at_each_init():
    text = "\n".join(memory_lines(pd.DataFrame(MEMORY)))
    assert "rnn**: remembers to d=8 (1/6 solved at d=32)" in text
    assert "standard init remembers to d=8 (0/6 solved at d=32)" in text
    assert "chrono init remembers beyond the tested range (6/6 solved at d=128)" in text
    assert "transformer_causal**: remembers beyond the tested range" in text


def test_the_headline_says_what_holds_what_falls_and_at_what_cost():
    summary = pd.DataFrame(MEMORY + [cell("fill_in", "length=32", "bilstm", 1.0, 0.125, solved=6),
                                      cell("fill_in", "length=32", "lstm", 0.12, 0.125, solved=0),
                                      cell("imdb", "max_len=256", "gru", 0.889, 0.504, n=3)])
    speed = pd.DataFrame([{"model": m, "length": 1024, "value": v, "width_rule": "params", "batch_kind": "full",
                           "threads": 2, "device": "cpu", "device_name": "Test CPU"}
                          for m, v in (("transformer", 10.0), ("lstm", 30.0), ("gru", 10.5))])
    text = headline(summary, summary, speed)[0]
    assert "lstm (chrono) and transformer_causal hold at every tested distance" in text
    assert "rnn to d=8" in text and "lstm (standard) to d=8" in text
    assert "Only bilstm fill in" in text and "0.889" in text
    assert "lstm trains faster than the Transformer" in text and "Test CPU, 2 threads" in text
    assert answer(summary, speed, summary)[0] == text


def test_speed_ratios_use_the_main_setting_relative_to_the_transformer():
    rows = pd.DataFrame([{"model": m, "length": 1024, "value": v, "width_rule": rule, "batch_kind": "full",
                          "threads": t, "device": "cpu", "device_name": "Test CPU"}
                         for m, v, rule, t in (("transformer", 10.0, "params", 2), ("lstm", 40.0, "params", 2),
                                               ("lstm", 99.0, "width", 2), ("lstm", 5.0, "params", 1),
                                               ("transformer", 1.0, "params", 1))])
    ratios, setting = speed_ratios(rows)
    assert ratios == {"lstm": 4.0} and "Test CPU, 2 threads" in setting


def test_no_runs_no_answer_and_baselines_are_marked():
    assert answer(pd.DataFrame(), pd.DataFrame()) == []
    line = task_line(pd.DataFrame([cell("imdb", "max_len=128", "rnn", 0.49, 0.518, n=1, ci=float("nan"),
                                        at_baseline=True)]), "imdb", "IMDB")[0]
    assert "rnn 0.490 ≤ baseline" in line


def test_anchor_table_puts_our_cells_beside_the_published_numbers():
    from bench.analysis.anchors import anchor_table

    summary = pd.DataFrame([
        {"task": "imdb", "variant": "max_len=256", "model": "transformer", "n": 3, "test_accuracy": 0.861,
         "ci95": 0.004},
        {"task": "adding", "variant": "length=50", "model": "gru", "n": 3, "test_accuracy": 0.9, "ci95": 0.01,
         "test_mse": 2e-4, "test_mse_ci95": 1e-4}])
    table = anchor_table(summary).set_index(["anchor", "model"])
    keras = table.loc[("Keras IMDB example (word-level, 2 epochs)", "transformer")]
    assert keras["published"] == "0.8745" and keras["ours"].startswith("0.861 ± 0.004 (n=3, max_len=256)")
    assert table.loc[("TCN adding problem (MSE, lower is better)", "gru"), "ours"].startswith("0.0002")
    assert table.loc[("Keras IMDB example (word-level, 2 epochs)", "bilstm"), "ours"] == "not run"
    assert table.loc[("LRA ListOps", "transformer"), "ours"] == "needs a GPU"
