"""Dataset formats: one module per format with a reader, a writer and a validator."""
