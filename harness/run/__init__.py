"""The matrix runner: planning, one cell's apply/evaluate/undo/verify, the dry run, the output lock."""
