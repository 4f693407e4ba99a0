"""The artifact cache: content-addressed disk entries under an in-process memory tier."""
