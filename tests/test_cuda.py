"""The CUDA path: bf16 autocast, cuDNN recurrences, SDPA attention. Skipped without a GPU."""
import pytest
import torch

from bench.run.loop import train_run
from bench.run.step import autocast

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@cuda
@pytest.mark.parametrize("model", ["rnn", "lstm", "gru", "bilstm", "transformer", "transformer_causal"])
def test_tiny_run_on_cuda(tiny_config, model):
    record = train_run(tiny_config(model, device="cuda"))
    assert record["status"] == "ok" and record["environment"]["device"] == "cuda"
    assert record["environment"]["cudnn"] is not None


@cuda
def test_autocast_is_bf16_on_cuda():
    with autocast(torch.device("cuda")):
        out = torch.nn.Linear(4, 4).cuda()(torch.randn(2, 4, device="cuda"))
    assert out.dtype == torch.bfloat16


def test_autocast_is_off_on_cpu():
    with autocast(torch.device("cpu")):
        out = torch.nn.Linear(4, 4)(torch.randn(2, 4))
    assert out.dtype == torch.float32
