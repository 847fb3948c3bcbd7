"""`bench eval CHECKPOINT`: rebuild a run's model and data from a checkpoint's metadata, load
its best weights and re-score a split (test by default: equals the run's test_accuracy).

    bench run --task recall --model lstm --checkpoints --out runs/local
    bench eval runs/local/checkpoints/<run_id>.safetensors --split val

A checkpoint of a plugin model or task needs the same plugin: ``bench --import my_model.py eval ...``.
"""
from __future__ import annotations

from bench.checkpoints import SPLITS, rescore


def add_arguments(parser) -> None:
    parser.add_argument("checkpoint", help="a .safetensors file from `bench run --checkpoints`")
    parser.add_argument("--split", choices=SPLITS, default="test", help="the split to score (default test)")
    parser.add_argument("--device", default=None, help="auto, cpu or cuda (default: the run's device)")


def main(args) -> int:
    result = rescore(args.checkpoint, args.split, args.device)
    config = result["config"]
    recorded = result["recorded_accuracy"]
    print(f"{config.task} {config.model} seed={config.seed} lr={config.lr:g} (run {result['run_id']}): "
          f"{args.split}_accuracy {result['accuracy']:.6f}  {args.split}_loss {result['loss']:.6f}  "
          f"on {result['examples']} examples"
          + (f"  (recorded {args.split}_accuracy {recorded:.6f})" if recorded is not None else ""))
    return 0
