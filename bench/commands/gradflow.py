"""`bench gradflow`: gradient norm against distance from the loss, and clipping's effect.

Writes OUT/gradflow.csv (tidy rows, see bench/gradflow.py) and OUT/gradflow.png. The
defaults run in about a minute on a CPU; `bench report OUT` then tests claims 6 and 7.
"""
from __future__ import annotations

from pathlib import Path

import torch

from bench.execute.store import atomic_write
from bench.probes.gradflow import DEFAULT_MODELS, GradflowConfig, gradflow
from bench.run.config import resolve_device

DEFAULTS = GradflowConfig()


def add_arguments(parser) -> None:
    parser.add_argument("--model", action="append", default=[],
                        help=f"a model, repeatable (default: {', '.join(DEFAULT_MODELS)})")
    parser.add_argument("--distance", type=int, default=DEFAULTS.distance, help="recall distance")
    parser.add_argument("--steps", type=int, default=DEFAULTS.steps,
                        help="training steps before the 'trained' probe (0: init only)")
    parser.add_argument("--clip-steps", type=int, default=DEFAULTS.clip_steps,
                        help="steps of each clipping run")
    parser.add_argument("--budget-params", type=int, default=DEFAULTS.budget_params)
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
    parser.add_argument("--out", default="runs/gradflow", help="folder for gradflow.csv/png")
    parser.add_argument("--device", default="cpu", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's choice)")


def main(args) -> int:
    config = GradflowConfig(models=tuple(args.model) or DEFAULT_MODELS, distance=args.distance,
                            steps=args.steps, clip_steps=args.clip_steps,
                            budget_params=args.budget_params, seed=args.seed,
                            device=resolve_device(args.device))
    if args.threads:
        torch.set_num_threads(args.threads)
    frame = gradflow(config)
    out = Path(args.out)
    atomic_write(out / "gradflow.csv", frame.to_csv(index=False).encode())
    from bench.report.plots import gradflow as plot

    plot(frame, out / "gradflow.png")
    print(f"{len(frame)} rows -> {out / 'gradflow.csv'}, {out / 'gradflow.png'}")
    return 0
