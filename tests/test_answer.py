"""The report's opening answer is computed from the cells, sentence by sentence."""
import pandas as pd

from bench.analysis.answer import answer, recall_sentences, speed_sentence


def cell(task, variant, model, acc, base, n=3, ci=0.01):
    return {"task": task, "variant": variant, "model": model, "test_accuracy": acc, "ci95": ci, "n": n,
            "trivial_baseline": base}


def test_recall_says_how_far_each_model_holds_the_bar():
    rows = [cell("recall", f"distance={d},n_pairs=1", m, acc, 0.125)
            for m, accs in (("rnn", (0.9, 0.2, 0.13)), ("lstm", (1.0, 0.95, 0.3)), ("transformer", (1.0, 1.0, 1.0)))
            for d, acc in zip((8, 32, 128), accs)]
    text = " ".join(recall_sentences(pd.DataFrame(rows)))
    assert "memory (one pair)" in text
    assert "rnn holds to 8" in text and "lstm holds to 32" in text
    assert "transformer holds at every tested distance (to 128)" in text


def test_speed_sentence_uses_the_main_setting_relative_to_the_transformer():
    rows = pd.DataFrame([{"model": m, "length": 1024, "value": v, "width_rule": rule, "batch_kind": "full",
                          "threads": t, "device": "cpu", "device_name": "Test CPU"}
                         for m, v, rule, t in (("transformer", 10.0, "params", 2), ("lstm", 40.0, "params", 2),
                                               ("lstm", 99.0, "width", 2), ("lstm", 5.0, "params", 1),
                                               ("transformer", 1.0, "params", 1))])
    text = speed_sentence(rows)[0]
    assert "Test CPU, 2 threads" in text and "lstm 4.00x" in text


def test_no_runs_no_answer():
    assert answer(pd.DataFrame(), pd.DataFrame()) == []


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
