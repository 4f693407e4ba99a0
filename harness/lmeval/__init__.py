"""The lm-eval seam: the LM wrapper that splices prompt edits in, the task catalog, the tomh
model type, and the quiet terminal around lm-eval."""
