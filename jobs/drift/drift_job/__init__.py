"""Drift monitoring of a KServe model's live payload logs with Evidently (see README.md)."""
