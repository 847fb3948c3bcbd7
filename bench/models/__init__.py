"""The models: one registry (`MODELS`, bench/models/spec.py), one wrapper every model shares
(`SequenceModel`, bench/models/wrapper.py), and one file per family, each registering its
models on import: recurrent.py (rnn, lstm, gru, bilstm), transformer.py (transformer,
transformer_causal), scan.py (mingru, minlstm). Registration order is the display order.
"""
# ruff: noqa: I001  (import order is registration order, the display order)
from bench.models import recurrent, transformer, scan  # noqa: F401  (register the built-in models)
from bench.models.spec import MODELS, ModelSpec, register_model
from bench.models.wrapper import SequenceModel, count

__all__ = ["MODELS", "ModelSpec", "SequenceModel", "count", "register_model"]
