"""Tests of outlayer.vm (NEAR host semantics)."""
