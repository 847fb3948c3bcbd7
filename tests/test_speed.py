"""bench speed: table structure on tiny CPU sweeps (no timing thresholds), FLOP counts,
speed-ups, the OOM path, and the CLI. GPU paths run only where CUDA is."""
import math

import pandas as pd
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

import bench.probes.speed as speed
from bench.analysis.speed import speedup_over
from bench.cli import main as cli
from bench.models import MODELS, scan_native
from bench.probes.speed import COLUMNS, KEY, SpeedConfig, measure, model_flops
from bench.probes.speed_table import summary
from bench.probes.timing import time_interleaved
from bench.run.step import build_model

CPU_METRICS = {"train_tokens_per_s", "infer_latency_ms", "infer_tokens_per_s", "sequential_depth",
               "achieved_flops", "peak_mem_bytes", "flops_share_of_peak", "gemm_peak_flops"}
TINY = dict(lengths=(8, 16), batches=(2,), budget_params=5_000, repeats=2, warmup=0, gemm_size=256)


@pytest.fixture(scope="module")
def sweep() -> pd.DataFrame:
    return measure(SpeedConfig(models=tuple(MODELS.names()), **TINY), progress=None)


def test_cpu_sweep_has_one_positive_row_per_model_length_batch_metric(sweep):
    assert list(sweep.columns) == COLUMNS
    assert not sweep.duplicated(KEY).any()
    expected = {(m, t, 2, metric) for m in MODELS.names() for t in (8, 16) for metric in CPU_METRICS}
    assert set(zip(sweep["model"], sweep["length"], sweep["batch"], sweep["metric"], strict=True)) == expected
    assert len(sweep) == len(expected)
    assert (sweep["status"] == "ok").all()
    assert (sweep["value"] > 0).all() and sweep["value"].map(math.isfinite).all()
    assert (sweep["spread"] >= 0).all() and (sweep["value_min"] <= sweep["value_max"]).all()
    assert ((sweep["device"] == "cpu") & (sweep["dtype"] == "fp32")).all()
    assert ((sweep["params_core"] - 5_000).abs() <= 250).all()


def test_implementation_names_and_sequential_depth(sweep):
    first = sweep.groupby("model")["implementation"].first()
    assert first["lstm"] == "torch nn.LSTM (CPU)"
    assert first["bilstm"] == "torch nn.LSTM (CPU) bidirectional; ragged: per-direction, length-reversed"
    assert first["transformer"] == "BertEncoder SDPA"
    assert first["mingru"] == first["minlstm"]
    if scan_native.available():
        assert first["mingru"] == f"fused C gates + sequential scan ({scan_native.reason()})"
    else:
        assert first["mingru"].startswith("sequential scan (T eager steps, custom backward; C kernel unavailable")
    depth = sweep[sweep["metric"] == "sequential_depth"].set_index(["model", "length"])["value"]
    assert depth["lstm", 16] == 32 and depth["transformer", 16] == 2
    assert depth["mingru", 16] == 32  # the CPU scan is sequential: T steps per layer (a log-depth one: 8)
    assert speed.sequential_depth("recurrent-scan", 1, 3) == 3
    assert speed.sequential_depth("unknown", 8, 2) is None


@pytest.mark.parametrize("model", ["rnn", "gru", "transformer", "transformer_causal", "mingru", "minlstm"])
def test_model_flops_match_the_flop_counter(model, monkeypatch):
    """The analytic count equals FlopCounterMode's wherever it can see every product
    (cuDNN/oneDNN LSTMs and the min cells' oneDNN projections are invisible to it, so those
    run their eager path here; SDPA is counted through the math kernel)."""
    monkeypatch.setattr(scan_native, "supports", lambda x: False)
    config = SpeedConfig(models=(model,), **TINY)
    net, _ = build_model(config.run_config(model), speed._Spec(8, 32))
    tokens = torch.randint(1, 32, (3, 12))
    with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH), torch.no_grad():
        net.eval()(tokens, None)
    assert model_flops(net, 3, 12) == counter.get_total_flops()


def test_share_of_peak_divides_by_the_gemm_peak_measured_in_the_same_cell(sweep):
    """One GEMM peak per (length, batch), the same for every model there, above what any
    tiny model reaches; each model's share is its achieved FLOP/s over that peak."""
    wide = sweep.pivot_table(index=["model", "length"], columns="metric", values="value")
    assert (wide.groupby("length")["gemm_peak_flops"].nunique() == 1).all()
    ratio = wide["achieved_flops"] / wide["gemm_peak_flops"] / wide["flops_share_of_peak"]
    assert ratio.between(0.5, 2.0).all()  # medians of ratios vs ratio of medians
    assert (wide["flops_share_of_peak"] < 1).all() and (wide["peak_mem_bytes"] > 0).all()


def test_repeats_are_interleaved_and_a_failing_callable_drops_out():
    calls = []
    record = {name: (lambda name=name: calls.append(name)) for name in "ABC"}

    def out_of_memory():
        calls.append("D")
        if calls.count("D") > 1:  # warm-up passes, the first timed call does not
            raise torch.cuda.OutOfMemoryError("simulated")

    timed = time_interleaved({**record, "D": out_of_memory}, torch.device("cpu"), repeats=3, warmup=1)
    assert "".join(calls) == "ABCD" + "ABCD" + "ABC" * 2
    assert timed["D"] == "oom" and all(len(timed[n]) == 3 for n in "ABC")
    slow = time_interleaved({"A": lambda: None}, torch.device("cpu"), repeats=2, warmup=0, limit_s=-1.0)
    assert slow == {"A": "too_slow"}


def _row(model, metric, value, length=8, status="ok", implementation="x"):
    return {"model": model, "implementation": implementation, "device": "cpu", "dtype": "fp32",
            "budget_params": 5000, "length": length, "batch": 2, "metric": metric, "value": value,
            "status": status}


def test_speedup_over_lstm():
    frame = pd.DataFrame([
        _row("lstm", "train_tokens_per_s", 100.0), _row("gru", "train_tokens_per_s", 250.0),
        _row("lstm", "infer_latency_ms", 4.0), _row("gru", "infer_latency_ms", 2.0),
        _row("gru", "train_tokens_per_s", 80.0, length=16),  # no baseline at 16: left out
        _row("lstm", "train_tokens_per_s", float("nan"), length=32, status="oom"),
        _row("gru", "train_tokens_per_s", 50.0, length=32),  # baseline ran out of memory: left out
        _row("lstm", "peak_mem_bytes", 1.0),  # not a speed metric
    ])
    ratios = speedup_over(frame).set_index(["model", "metric", "length"])["speedup"]
    assert ratios.to_dict() == {("lstm", "train_tokens_per_s", 8): 1.0, ("gru", "train_tokens_per_s", 8): 2.5,
                                ("lstm", "infer_latency_ms", 8): 1.0, ("gru", "infer_latency_ms", 8): 2.0}
    with pytest.raises(ValueError, match="peak_mem_bytes"):
        speedup_over(frame, metrics=("peak_mem_bytes",))


def test_speedup_over_a_real_sweep(sweep):
    ratios = speedup_over(sweep, baseline="lstm")
    assert set(ratios["model"]) == set(MODELS.names())
    assert len(ratios) == len(MODELS.names()) * 2 * 3  # models x lengths x 3 speed metrics
    assert (ratios[ratios["model"] == "lstm"]["speedup"] == 1.0).all()
    assert (ratios["speedup"] > 0).all()


def test_an_out_of_memory_phase_is_recorded_and_the_sweep_goes_on(monkeypatch):
    real = speed.train_step

    def flaky(model, optimizer, batch, *args, **kwargs):
        if batch.inputs.shape[1] == 16 and model is lstm_model[0]:  # the lstm's training at T = 16
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(model, optimizer, batch, *args, **kwargs)

    lstm_model = []
    real_build = speed.build_model

    def build(config, *args, **kwargs):
        model, sized = real_build(config, *args, **kwargs)
        if config.model == "lstm":
            lstm_model.append(model)
        return model, sized

    monkeypatch.setattr(speed, "train_step", flaky)
    monkeypatch.setattr(speed, "build_model", build)
    frame = measure(SpeedConfig(models=("lstm", "gru"), **{**TINY, "repeats": 1}), progress=None)
    status = frame.set_index(["model", "length", "metric"])["status"]
    assert status["lstm", 16, "train_tokens_per_s"] == status["lstm", 16, "achieved_flops"] == "oom"
    assert status["lstm", 16, "peak_mem_bytes"] == "oom"
    assert status["lstm", 16, "infer_latency_ms"] == status["lstm", 8, "train_tokens_per_s"] == "ok"
    assert status["gru", 16, "train_tokens_per_s"] == "ok"  # the other model of the cell goes on
    assert frame[frame["status"] == "oom"]["value"].isna().all()
    assert "oom" in summary(frame)


def test_ragged_batches_equal_width_and_thread_passes():
    """Ragged batches carry real lengths (so the BiLSTM meets its padding path), equal width
    builds every model at one width, and a pass sets the torch thread count it records."""
    lengths = speed.ragged_lengths(4000, 256, torch.Generator().manual_seed(0))
    assert lengths.min() >= 1 and lengths.max() == 256  # IMDB's 60th percentile is above 256
    assert 200 < float(lengths.float().median()) < 240  # IMDB's median review: 223 tokens
    threads = torch.get_num_threads()
    try:
        frame = measure(SpeedConfig(models=("lstm", "bilstm", "transformer"), width_rule="width", width=32,
                                    batch_kind="ragged", threads=1, **TINY), progress=None)
    finally:
        torch.set_num_threads(threads)
    assert (frame["status"] == "ok").all() and (frame["threads"] == 1).all()
    assert set(frame["width"]) == {32} and frame["params_core"].nunique() == 3
    assert set(frame["width_rule"]) == {"width"} and set(frame["batch_kind"]) == {"ragged"}


def test_a_too_slow_cell_is_recorded_and_longer_lengths_are_skipped():
    frame = measure(SpeedConfig(models=("lstm",), max_call_s=0.0, **TINY), progress=None)
    status = frame.set_index(["length", "metric"])["status"]
    assert status[8, "train_tokens_per_s"] == status[16, "train_tokens_per_s"] == "too_slow"
    assert status[16, "infer_latency_ms"] == "too_slow" and status[8, "sequential_depth"] == "ok"
    assert frame[frame["status"] == "too_slow"]["value"].isna().all()


def test_cpu_preset_is_four_passes_to_4096():
    passes = speed.cpu_sweep(("lstm", "gru"))
    assert [(p.width_rule, p.batch_kind, p.threads) for p in passes] == [
        ("params", "full", 2), ("params", "full", 1), ("width", "full", 2), ("params", "ragged", 2)]
    assert passes[0].lengths == (64, 128, 256, 512, 1024, 2048, 4096) and passes[0].batches == (32,)
    assert all(p.lengths == (64, 256, 1024) for p in passes[1:])


def test_cli_writes_and_merges_speed_csv(tmp_path, capsys):
    base = ["speed", "--lengths", "8", "--batch", "2", "--budget-params", "5e3", "--repeats", "1",
            "--warmup", "0", "--device", "cpu", "--out", str(tmp_path)]
    assert cli(base + ["--model", "lstm", "--model", "mingru"]) == 0
    table = pd.read_csv(tmp_path / "speed.csv")
    assert len(table) == 2 * len(CPU_METRICS) and set(table["model"]) == {"lstm", "mingru"}
    assert "train_tokens_per_s" in capsys.readouterr().out
    assert cli(base[:2] + ["8,16"] + base[3:] + ["--model", "lstm"]) == 0  # lstm at 8 again, and 16
    table = pd.read_csv(tmp_path / "speed.csv")
    assert len(table) == 3 * len(CPU_METRICS) and not table.duplicated(KEY).any()


def _status(argv) -> int:
    """The CLI's exit status, whether argparse exits or main returns."""
    try:
        return cli(argv)
    except SystemExit as error:
        return error.code


@pytest.mark.parametrize("bad", [["--model", "nope"], ["--lengths", "8,x"], ["--budget-params", "10"],
                                 ["--dtype", "fp16"], ["--repeats", "0"], ["--device", "tpu"],
                                 ["--compile", "--warmup", "0"]])
def test_cli_bad_input_fails_with_status_2_and_writes_nothing(tmp_path, bad):
    args = ["speed", "--lengths", "8", "--batch", "2", "--budget-params", "5000", "--device", "cpu",
            "--model", "lstm", "--out", str(tmp_path)]
    assert _status(args + bad) == 2
    assert not (tmp_path / "speed.csv").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_sweep_records_memory_and_flops():
    frame = measure(SpeedConfig(models=("lstm", "mingru", "transformer"), lengths=(64,), batches=(2,),
                                budget_params=5_000, repeats=2, warmup=1, device="cuda", dtype="bf16"),
                    progress=None)
    assert (frame["status"] == "ok").all() and (frame["value"] > 0).all()
    metrics = set(frame["metric"])
    assert {"peak_mem_bytes", "achieved_flops", "flops_share_of_peak", "gemm_peak_flops"} <= metrics
    assert frame.groupby("model")["implementation"].first()["lstm"] == "cuDNN nn.LSTM"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_compiled_scan():
    frame = measure(SpeedConfig(models=("mingru",), lengths=(64,), batches=(2,), budget_params=5_000,
                                repeats=2, warmup=2, device="cuda", dtype="bf16", compile=True),
                    progress=None)
    assert (frame["status"] == "ok").all()
    assert set(frame["implementation"]) == {"log-space scan (cumsum + logcumsumexp) + torch.compile"}


def test_cpu_peak_memory_counts_the_step_allocations():
    """The allocator peak of a step that holds two 1M-float tensors at once is >= 8 MB, and
    grows with what the step allocates."""
    from bench.probes.timing import cpu_peak_bytes

    def step(n):
        a = torch.ones(n)
        b = torch.ones(n)
        return float((a + b).sum())

    small, large = cpu_peak_bytes(lambda: step(1_000_000)), cpu_peak_bytes(lambda: step(4_000_000))
    assert small >= 8_000_000 and large >= 4 * small * 0.9
