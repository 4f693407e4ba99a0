"""What a run evaluates: the matrix spec from flags or YAML, typed option values, repeats."""
