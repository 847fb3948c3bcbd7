"""Structure: params_core of every registered model at equal widths (claim 4). A property of
the architectures, computed on the meta device (no memory, no training), written to
DIR/structure.csv so the report can read it without torch."""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from bench.models import MODELS
from bench.run.budget import core_params


def structural_params(widths: Sequence[int] = (32, 64, 128, 256), d_embed: int = 64,
                      layers: int = 2, heads: int = 4) -> pd.DataFrame:
    """params_core of every registered model at equal widths (FFN = 4 x width): a measurement
    of structure, built on the meta device (no memory, no training)."""
    rows = []
    for name in MODELS:
        spec = MODELS[name]
        for width in widths:
            if width % spec.width_multiple(heads):
                continue
            rows.append({"model": name, "width": width, "d_embed": d_embed, "layers": layers,
                         "params_core": core_params(spec, d_embed, width, layers, heads, 4 * width)})
    return pd.DataFrame(rows)
