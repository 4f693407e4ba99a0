"""Several data roots, data shipped in a task folder, advice for missing files, the registry file."""
from __future__ import annotations

import configparser
import os
from pathlib import Path

import pytest

import tom_harness.data as ds
from tom_harness.data.roots import data_dir, data_file, roots, set_data_dir
from tom_harness.api.errors import DataMissingError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def two_roots(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    for root, text in ((a, "from a"), (b, "from b")):
        (root / "mine").mkdir(parents=True)
        (root / "mine" / "both.txt").write_text(text)
    (b / "mine" / "only_b.txt").write_text("b only")
    monkeypatch.setenv("TOM_HARNESS_DATA", os.pathsep.join([str(a), str(b)]))
    return a, b


def test_first_root_wins_then_later_roots(two_roots):
    a, b = two_roots
    assert roots() == [a, b] and data_dir() == a
    assert data_file("mine", "both.txt").read_text() == "from a"
    assert data_file("mine", "only_b.txt") == b / "mine" / "only_b.txt"


def test_set_data_dir_takes_several(tmp_path, monkeypatch):
    monkeypatch.delenv("TOM_HARNESS_DATA", raising=False)
    set_data_dir(os.pathsep.join([str(tmp_path / "x"), str(tmp_path / "y")]))
    assert roots() == [(tmp_path / "x").resolve(), (tmp_path / "y").resolve()]


def test_task_folder_data_comes_first(two_roots, tmp_path):
    task = tmp_path / "task"
    (task / "data" / "mine").mkdir(parents=True)
    (task / "data" / "mine" / "both.txt").write_text("from the task")
    (task / "items.json").write_text("[]")
    assert data_file("mine", "both.txt", task_dir=task).read_text() == "from the task"
    assert data_file("mine", "only_b.txt", task_dir=task).read_text() == "b only"
    assert data_file("mine", "./items.json", task_dir=task) == task / "items.json"
    with pytest.raises(DataMissingError, match="relative to a task folder"):
        data_file("mine", "./items.json")


def test_missing_unknown_dataset_gets_advice_that_works(two_roots):
    a, b = two_roots
    with pytest.raises(DataMissingError) as err:
        data_file("opentom", "opentom_seed12.json")
    msg = str(err.value)
    assert "data fetch opentom" not in msg and "not a dataset tom-harness can download" in msg
    assert str(a / "opentom" / "opentom_seed12.json") in msg and str(b / "opentom" / "opentom_seed12.json") in msg
    assert "TOM_HARNESS_DATA" in msg and "data/opentom/opentom_seed12.json next to the YAML" in msg


def test_missing_registered_dataset_names_the_fetch(two_roots):
    with pytest.raises(DataMissingError, match="`tom-harness data fetch tomi`"):
        data_file("tomi", "tomi_seed12.json")


def test_registry_is_package_data():
    assert ds.REGISTRY_FILE.name == "datasets.json" and ds.REGISTRY_FILE.is_file()
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    assert "datasets.json" in cfg["options.package_data"]["tom_harness.data"]
    tomi = ds.DATASETS["tomi"]
    assert tomi.upstream("tomi_seed12.json").endswith("/data/tom_datasets/tomi/tomi_reduced_q_seed%5B12%5D.json")
    assert tomi.upstream("tomi_full.json").endswith("/tomi/tomi.json")
    assert ds.DATASETS["enigma_cache"].upstream("tomi/seed12/rooms.json") is None
    assert all(len(sha) == 64 and size > 0 for info in ds.DATASETS.values() for size, sha in info.files.values())
    assert sum(1 for line in (REPO / "harness" / "data" / "registry.py").read_text().splitlines()) < 300


def test_status_finds_each_dataset_in_its_root(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("TOM_HARNESS_DATA", os.pathsep.join([str(tmp_path), str(shared_data)]))
    rows = {r["name"]: r for r in ds.data_status()}
    assert rows["tomi"]["status"] == "ok" and rows["tomi"]["path"] == str(shared_data / "tomi")
