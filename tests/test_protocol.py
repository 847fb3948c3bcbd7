"""The experiment's protocol (issue 22): init as a measured factor, recall where position gives
nothing away, runs that use their budget, and the task knobs the calibration set."""
import math

import numpy as np
import pyarrow as pa
import pytest
import torch

from bench.models import MODELS
from bench.run.config import RunConfig
from bench.run.loop import LEARNING_MARGIN, converged, train_run
from bench.run.step import build_model
from tasks.base import TASKS
from tasks.data.tokenize import pad_ids


def _built(model: str, init: str, t_max: int = 64, width_budget: int = 20_000):
    config = RunConfig(task="recall", model=model, init=init, budget_params=width_budget, d_embed=32,
                       variant=TASKS["recall"].variant({"distance": t_max - 20, "n_pairs": 1, "slack": 0,
                                                        "n_train": 8, "n_val": 4, "n_test": 4}))
    data = TASKS["recall"].build(config.variant, 0)
    torch.manual_seed(0)
    model_, _ = build_model(config, data)
    return model_.encoder, data.train.seq_len


def _gate(rnn, name: str, gate: int, width: int) -> torch.Tensor:
    return dict(rnn.named_parameters())[name][gate * width:(gate + 1) * width].detach()


@pytest.mark.parametrize("model", ["lstm", "bilstm"])
def test_chrono_lstm_forget_bias_is_log_uniform_up_to_the_sequence_length_and_input_bias_its_negative(model):
    encoder, t_max = _built(model, "chrono")
    w = encoder.width
    names = [n for n, _ in encoder.rnn.named_parameters() if n.startswith("bias_ih")]
    assert len(names) == (4 if model == "bilstm" else 2)  # every layer and direction
    for name in names:
        forget, inputs = _gate(encoder.rnn, name, 1, w), _gate(encoder.rnn, name, 0, w)
        assert forget.min() >= 0 and forget.max() <= math.log(t_max - 1) + 1e-6
        assert forget.std() > 0.1  # spread over timescales, not one value
        assert torch.equal(inputs, -forget)
        hh = name.replace("bias_ih", "bias_hh")
        assert _gate(encoder.rnn, hh, 1, w).abs().max() == 0 and _gate(encoder.rnn, hh, 0, w).abs().max() == 0


def test_chrono_gru_update_gate_and_standard_inits_read_back():
    chrono, t_max = _built("gru", "chrono")
    z = _gate(chrono.rnn, "bias_ih_l0", 1, chrono.width)
    assert z.min() >= 0 and z.max() <= math.log(t_max - 1) + 1e-6 and z.std() > 0.1
    standard, _ = _built("gru", "standard")
    assert torch.all(_gate(standard.rnn, "bias_ih_l0", 1, standard.width) == 1.0)
    lstm, _ = _built("lstm", "standard")
    assert torch.all(_gate(lstm.rnn, "bias_ih_l1", 1, lstm.width) == 1.0)


def test_chrono_uses_the_sequence_length_never_the_distance():
    """T_max is the task's sequence length: a longer sequence spreads the biases further."""
    short, t_short = _built("lstm", "chrono", t_max=40)
    long_, t_long = _built("lstm", "chrono", t_max=400)
    assert t_long > t_short
    top = lambda e: float(_gate(e.rnn, "bias_ih_l0", 1, e.width).max())  # noqa: E731
    assert top(long_) > math.log(t_short - 1) >= top(short) - 1e-6


def test_orthogonal_rnn_and_chrono_scan_models():
    rnn, _ = _built("rnn", "orthogonal")
    w = rnn.rnn.weight_hh_l0.detach()
    assert torch.allclose(w @ w.T, torch.eye(w.shape[0]), atol=1e-5)
    assert rnn.rnn.bias_hh_l0.abs().max() == 0
    for kind in ("mingru", "minlstm"):
        encoder, t_max = _built(kind, "chrono")
        bias = encoder.cells[0].linear.bias.detach()[: encoder.width]
        carry = -bias if kind == "mingru" else bias  # minGRU: a = 1 - z, so z's bias is -log u
        assert carry.min() >= 0 and carry.max() <= math.log(t_max - 1) + 1e-6


def test_an_init_a_model_does_not_support_fails_loudly_and_init_is_in_the_run_id():
    with pytest.raises(ValueError, match="does not apply to transformer"):
        _built("transformer", "chrono")
    with pytest.raises(ValueError, match="orthogonal"):
        _built("lstm", "orthogonal")
    with pytest.raises(ValueError, match="init must be one of"):
        RunConfig(task="recall", model="lstm", init="xavier")
    base = RunConfig(task="recall", model="lstm")
    assert base.run_id(3) != base.replace(init="chrono").run_id(3)
    assert MODELS["lstm"].inits == ("standard", "chrono") and MODELS["transformer"].inits == ("standard",)


def test_recall_puts_the_fact_at_a_random_position_at_an_exact_distance():
    variant = TASKS["recall"].variant({"distance": 10, "n_pairs": 1, "slack": 8, "n_train": 400,
                                       "n_val": 10, "n_test": 10})
    split = TASKS["recall"].build(variant, 0).train
    assert set(split.lengths.tolist()) == {2 + 10 + 2 + 8}  # one length per variant
    query_pos = split.positions[:, 0]
    assert len(set(query_pos.tolist())) == 9  # the query (and the fact) move over slack + 1 places
    rows = torch.arange(len(split))
    value_pos = query_pos - 10 - 2  # QUERY key sit right after the distance
    values = split.inputs[rows, value_pos] - (2 + variant["n_keys"])
    assert torch.equal(values, split.targets[:, 0])  # the answer sits exactly `distance` before QUERY
    assert torch.all(split.inputs[rows, query_pos - 1] == 1)  # QUERY marker


def test_a_run_at_chance_uses_its_cap_and_a_solved_run_stops_at_once(tiny_config, monkeypatch):
    """Validation flat at chance: under the old rule (patience 1) the run stopped at step 20; now
    it runs to its cap. Then the same flat curve above chance stops it."""
    import bench.run.loop as loop

    real = loop.evaluate
    level = {"accuracy": 0.10}
    monkeypatch.setattr(loop, "evaluate", lambda model, split, data, batch: (
        {"accuracy": level["accuracy"], "loss": 2.0} if split is not None and batch == 4 * 32 and level["accuracy"]
        else real(model, split, data, batch)))
    stuck = tiny_config("rnn", steps=60, eval_every=10, patience=1, batch_size=32,
                        variant={"distance": 4, "n_pairs": 1, "n_train": 300, "n_val": 100, "n_test": 100})
    assert train_run(stuck)["metrics"]["steps_done"] == 60  # at chance (0.10 < 0.125 + 0.05): uses its cap
    level["accuracy"] = 0.60
    assert train_run(stuck)["metrics"]["steps_done"] == 20  # learned, then flat: stops on the plateau
    # the rule itself: a plateau stops a run only once it has started learning; perfect always does
    assert not converged(9, 0.14, 5, "token", baseline=0.125)
    assert converged(9, 0.40, 5, "token", baseline=0.125)
    assert converged(0, 1.0, 5, "token", baseline=0.125)


def test_a_solved_run_records_when_it_reached_the_bar(tiny_config):
    easy = tiny_config("lstm", init="chrono", steps=300, eval_every=20, lr=1e-2, min_steps=300,
                       variant={"distance": 2, "n_pairs": 1, "slack": 0, "n_train": 600, "n_val": 100, "n_test": 100})
    metrics = train_run(easy)["metrics"]
    assert metrics["val_accuracy"] == 1.0 and metrics["steps_done"] < 300  # perfect: stopped before min_steps
    assert metrics["steps_to_bar"] <= metrics["steps_done"]


def test_mqar_blank_filler_and_imdb_tail_truncation():
    variant = TASKS["mqar"].variant({"seq_len": 32, "n_kv": 2, "vocab": 16, "random_non_queries": False,
                                     "n_train": 20, "n_val": 5, "n_test": 5})
    split = TASKS["mqar"].build(variant, 0).train
    query_region = split.inputs[:, 4:].clone()
    query_region.scatter_(1, split.positions - 4, 0)  # the queries themselves
    assert query_region.abs().sum() == 0  # everything else in the query region is the blank 0
    column = pa.array([list(range(1, 11)), [7, 8]], type=pa.list_(pa.int64()))
    head, _ = pad_ids(column, 4, "head")
    tail, lengths = pad_ids(column, 4, "tail")
    assert head[0].tolist() == [1, 2, 3, 4] and tail[0].tolist() == [7, 8, 9, 10]
    assert tail[1].tolist() == [7, 8, 0, 0] and lengths.tolist() == [4, 2]
    assert TASKS["imdb"].defaults["truncate"] == "tail"
    assert np.isfinite(float(TASKS["imdb"].version))


def test_one_outcome_vocabulary_matches_the_loop():
    from bench.analysis import outcome

    assert outcome.LEARNING_MARGIN == LEARNING_MARGIN  # the loop's "started learning" is the tables' "at chance"
    solved = {"trivial_baseline": 0.125, "solve_bar": 0.5625, "test_accuracy": 1.0, "val_accuracy": 1.0,
              "steps_done": 100, "step_cap": 600}
    assert outcome.describe(solved) == "solved, stopped early at step 100 of 600"
    stuck = {**solved, "test_accuracy": 0.13, "val_accuracy": 0.13, "steps_done": 600}
    assert outcome.describe(stuck) == "stalled at chance, at cap (600 steps)"
    partial = {**stuck, "test_accuracy": 0.4, "val_accuracy": 0.4}
    assert outcome.outcome(partial) == outcome.LEARNED and outcome.outcome({}, "diverged") == outcome.DIVERGED
    assert outcome.outcome({"test_accuracy": 0.9}) == outcome.OK  # no baseline, no bar
