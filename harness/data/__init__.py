"""Data roots, the dataset registry (fetch, checksums), localizer stimuli, story helpers and
the offline story generators."""
