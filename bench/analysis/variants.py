"""Variant labels: a task variant dict as one sortable string, and back (pure, no torch)."""
from __future__ import annotations

from typing import Any


def variant_label(variant: dict[str, Any]) -> str:
    """{'n_values': 8, 'distance': 32} -> 'distance=32,n_values=8' (keys sorted)."""
    return ",".join(f"{k}={variant[k]}" for k in sorted(variant))


def variant_values(variant: str) -> dict[str, str]:
    """Inverse of variant_label: 'distance=32,n_values=8' -> {'distance': '32', ...}."""
    return dict(part.split("=", 1) for part in str(variant).split(",") if part)
