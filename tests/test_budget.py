import pytest
import torch

from bench.models import MODELS, count
from bench.run.budget import BudgetError, solve
from bench.run.config import RunConfig
from bench.run.step import build_model
from tasks.base import TASKS

CORE = ["rnn", "lstm", "gru", "bilstm", "transformer", "transformer_causal"]


@pytest.mark.parametrize("budget,d_embed", [(100_000, 64), (1_000_000, 128)])
def test_every_model_lands_within_five_percent(budget, d_embed):
    for name in MODELS:
        sized = solve(name, budget, d_embed, layers=2, heads=4)
        assert abs(sized.params_core / budget - 1) <= 0.05, (name, sized)


@pytest.mark.parametrize("model", CORE)
def test_built_model_matches_solver_and_shares_embedding_and_head(model):
    variant = TASKS["recall"].variant({"distance": 2, "n_train": 10, "n_val": 10, "n_test": 10})
    data = TASKS["recall"].build(variant, 0)
    config = RunConfig(task="recall", model=model, variant=variant, budget_params=100_000)
    built, sized = build_model(config, data)
    assert count(built.core_parameters()) == sized.params_core
    assert abs(sized.params_core / 100_000 - 1) <= 0.05
    # embedding and head are identical in size for every model, and outside params_core
    assert built.embed.weight.shape == (data.vocab_size, config.d_embed)
    assert built.head.weight.shape == (data.n_classes, config.d_embed)
    outside = count(built.embed.parameters()) + count(built.head.parameters())
    assert count(built.parameters()) == sized.params_core + outside


def test_bilstm_is_the_lstm_bidirectional():
    with torch.device("meta"):
        encoder = MODELS["bilstm"].build(16, 8, 2, 0.0, 4, 32)
    assert isinstance(encoder.rnn, torch.nn.LSTM) and encoder.rnn.bidirectional


def test_a_budget_too_small_fails_loudly():
    with pytest.raises(BudgetError, match="cannot be met"):
        solve("transformer", 10, 64, layers=2, heads=4)
