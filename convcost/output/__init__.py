"""Output: one summary built from the model, and the formats that render it."""
