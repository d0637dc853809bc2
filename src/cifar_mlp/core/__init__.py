"""Data, models and training: one run, from verified pixels to a history."""
