"""Writes runs.md: one row per calibration run, read from runs/*.json (python results/calibration/runs_table.py)."""
import json
from pathlib import Path

HERE = Path(__file__).parent
KNOBS = ("distance", "max_len", "truncate", "seq_len", "n_kv", "vocab", "random_non_queries", "k", "window",
         "per_review")


def row(record: dict) -> list[str]:
    config, metrics = record["config"], record["metrics"]
    knobs = ", ".join(f"{k}={config['variant'][k]}" for k in KNOBS if k in config["variant"])
    reached = metrics.get("steps_to_bar")
    return [config["task"], knobs, config["model"], config.get("init", "standard"), f"{config['lr']:g}",
            ("not recorded" if "solve_bar" not in metrics else "never") if reached is None else f"{reached:.0f}", f"{metrics['steps_done']:.0f} / {metrics['step_cap']:.0f}",
            f"{metrics.get('val_accuracy', float('nan')):.4f}", f"{metrics.get('test_accuracy', float('nan')):.4f}",
            f"{metrics.get('trivial_baseline', float('nan')):.3f}",
            f"{metrics['bigram_baseline']:.3f}" if "bigram_baseline" in metrics else "",
            f"{metrics['wall_s']:.0f}"]


records = [json.loads(p.read_text()) for p in sorted((HERE / "runs").glob("*.json"))]
rows = sorted(row(r) for r in records)
head = ["task", "variant", "model", "init", "lr", "val at the bar by step", "steps done / cap", "best val acc",
        "test acc", "trivial baseline", "bigram baseline", "wall s"]
lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
(HERE / "runs.md").write_text("# Every calibration run\n\nWritten by `python results/calibration/runs_table.py` from "
                              "`runs/*.json`.\n\n" + "\n".join(lines) + "\n")
print(len(rows), "runs")
