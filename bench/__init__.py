"""bench: the engine of the RNN-vs-Transformer benchmark harness."""
__version__ = "0.1.0"
