"""lm-eval YAML tasks shipped with tom-harness (one folder per benchmark)."""
from pathlib import Path

TASK_DIR = Path(__file__).resolve().parent
