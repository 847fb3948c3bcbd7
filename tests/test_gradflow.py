"""`bench gradflow`: per-position gradient norms and the clipping probe, on tiny models."""
import math

import pandas as pd
import pytest
import torch

from bench import cli
from bench.probes.gradflow import GradflowConfig, clip_rows, position_grad_norms, position_rows, steppable
from bench.run.step import build_model
from tasks.base import TASKS


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(**changes) -> GradflowConfig:
    base = dict(models=("rnn",), distance=30, steps=0, budget_params=20_000, probe_examples=16,
                n_train=64, clip_steps=4)
    return GradflowConfig(**{**base, **changes})


def test_rnn_gradient_shrinks_with_distance_at_init():
    config = tiny()
    data = TASKS["recall"].build(config.run_config("rnn").variant, 0)
    torch.manual_seed(0)
    model, _ = build_model(config.run_config("rnn"), data)
    norms = position_grad_norms(model, data.train.inputs[:16], data.train.targets[:16, 0])
    length = data.train.inputs.shape[1]
    for quantity, per_position in norms.items():
        far, near = float(per_position[length - 1 - 30]), float(per_position[length - 1 - 1])
        assert far < near / 100, quantity  # vanishing: orders of magnitude, not noise
    assert set(norms) == {"hidden", "input"}


def test_stepping_the_recurrence_matches_the_whole_sequence_call():
    config = tiny(distance=6)
    data = TASKS["recall"].build(config.run_config("lstm").variant, 0)
    for name in ("lstm", "gru"):
        model, _ = build_model(config.run_config(name), data)
        assert steppable(model.encoder)
        x = model.embed(data.train.inputs[:4])
        whole = model.encoder(x, None)[:, -1]
        h = None
        for t in range(x.shape[1]):
            _, h = model.encoder.rnn(x[:, t: t + 1], h)
        top = (h[0] if isinstance(h, tuple) else h)[-1]
        torch.testing.assert_close(top, whole)
    bilstm, _ = build_model(config.run_config("bilstm"), data)
    assert not steppable(bilstm.encoder)  # only the input-gradient quantity for it


def test_position_rows_are_tidy_and_cover_both_phases():
    rows = pd.DataFrame(position_rows(tiny(models=("rnn", "transformer"), steps=2, distance=4)))
    assert set(rows["phase"]) == {"init", "trained"}
    assert set(rows.loc[rows["model"] == "transformer", "quantity"]) == {"input"}
    assert set(rows.loc[rows["model"] == "rnn", "quantity"]) == {"input", "hidden"}
    assert rows["distance"].min() == 0 and rows["distance"].max() == 4 + 2 + 2 - 1
    assert (rows["grad_norm"] >= 0).all()


def test_clip_rows_record_grad_norm_and_update_size():
    rows = pd.DataFrame(clip_rows(tiny(distance=4)))
    assert set(rows["optimizer"]) == {"sgd", "adamw"}
    assert rows["clip_norm"].isna().any() and (rows["clip_norm"] == 1.0).any()
    finite = rows[rows["clip_norm"] == 1.0]
    assert all(math.isfinite(v) for v in finite["update_max"])
    # with SGD the clipped step is at most lr * clip_norm long
    sgd = finite[finite["optimizer"] == "sgd"]
    assert (sgd["update_norm"] <= sgd["lr"] * 1.0 + 1e-5).all()


def test_gradflow_cli_writes_csv_and_plot(tmp_path, capsys):
    code = cli.main(["gradflow", "--model", "rnn", "--model", "lstm", "--distance", "6", "--steps", "2",
                     "--clip-steps", "3", "--out", str(tmp_path)])
    assert code == 0 and "rows" in capsys.readouterr().out
    frame = pd.read_csv(tmp_path / "gradflow.csv")
    wanted = {"kind", "model", "phase", "distance", "grad_norm", "optimizer", "update_max"}
    assert wanted <= set(frame.columns)
    assert (tmp_path / "gradflow.png").stat().st_size > 1000
    assert cli.main(["gradflow", "--model", "nope", "--out", str(tmp_path)]) == 2
