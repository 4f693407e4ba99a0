"""Data roots, the dataset registry (status, checksums, downloads), localizer stimuli, story
helpers and the offline story generators.

The names below are this layer's own entry points (``tom-harness data``, tests); plugins and
tasks read data through the public API (``tom_harness.data_file``, ``RunContext.data_path``)."""
from tom_harness.data.checksums import sha256_of, verify_data_file
from tom_harness.data.download import fetch, fetch_file
from tom_harness.data.registry import DATASETS, REGISTRY_FILE, DatasetInfo, resolve_names
from tom_harness.data.roots import data_dir, data_file, find_dir, roots, set_data_dir
from tom_harness.data.status import data_status

__all__ = [
    "DATASETS", "REGISTRY_FILE", "DatasetInfo", "data_dir", "data_file", "data_status", "fetch", "fetch_file",
    "find_dir", "resolve_names", "roots", "set_data_dir", "sha256_of", "verify_data_file",
]
