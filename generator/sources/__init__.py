"""Readers: one per source format and part; they translate tables into the model."""
