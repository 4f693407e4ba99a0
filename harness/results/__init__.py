"""Everything after a cell is scored: the output directory, per-item scores, paired tests,
tables, compare and export."""
