"""Checks of run options against this machine, before the model loads, each naming the flag or key.

Whether a device exists, a model folder or hub id is there, an output folder is writable, a URL
is one. Everything here is cheap (no model, no task loading), so a typo in an overnight sweep fails
in the first second. The *typing* of values (numbers, booleans, names, ``k=v`` pairs) is
:mod:`tom_harness.api.values`'s; ``check_limit`` and ``check_bool`` are re-exported from there.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tom_harness.api.errors import UsageError
from tom_harness.api.values import check_bool, check_limit  # noqa: F401  (re-exported, see above)

_DEVICE = re.compile(r"^(cpu|mps|(cuda|xpu|npu|hpu)(:\d+)?)$")


def check_device(device: Any, where: str = "--device") -> str | None:
    """A torch device name that exists on this machine (``cuda`` without a GPU fails here)."""
    if device is None:
        return None
    text = str(device).strip()
    if not isinstance(device, str) or not _DEVICE.match(text):
        raise UsageError(f"{where}: expected cpu, cuda, cuda:N or mps, got {device!r}")
    import torch

    if text.startswith("cuda"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(text.split(":")[1]) if ":" in text else 0
        if index >= count:
            raise UsageError(f"{where} {text}: this machine has {count} CUDA device(s); use --device cpu"
                             + (f" or cuda:0..cuda:{count - 1}" if count else ""))
    if text == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UsageError(f"{where} mps: Apple MPS is not available here; use --device cpu")
    return text


def check_pretrained(args: dict[str, Any]) -> None:
    """After alias resolution: a local folder must hold a model, a hub id must be reachable
    (offline: already in the local cache), a ``peft`` adapter must exist."""
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    name = str(args.get("pretrained"))
    _check_model_source("pretrained", name, offline, args.get("gguf_file"), "config.json")
    if args.get("peft"):
        _check_model_source("peft", str(args["peft"]), offline, None, "adapter_config.json")
    if args.get("tokenizer"):
        path = Path(str(args["tokenizer"])).expanduser()
        if _looks_local(str(args["tokenizer"])) and not path.exists():
            raise UsageError(f"--model_args tokenizer={args['tokenizer']}: no such file or folder")


def _looks_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or os.path.exists(os.path.expanduser(name))


def _check_model_source(key: str, name: str, offline: bool, gguf: Any, marker: str) -> None:
    path = Path(name).expanduser()
    if _looks_local(name):
        if not path.exists():
            raise UsageError(f"--model_args {key}={name}: {name} does not exist (no such file or folder)")
        if path.is_dir():
            if gguf:
                if not (path / str(gguf)).is_file():
                    raise UsageError(f"--model_args gguf_file={gguf}: not found in {path}")
            elif not (path / marker).is_file():
                raise UsageError(f"--model_args {key}={name}: the folder has no {marker}; expected a "
                                 f"transformers {'adapter' if key == 'peft' else 'model'} folder")
        return
    if offline:
        from huggingface_hub import try_to_load_from_cache

        try:
            hit = try_to_load_from_cache(name, marker)
        except Exception:  # noqa: BLE001 - a malformed repo id
            hit = None
        if not isinstance(hit, str):
            raise UsageError(f"--model_args {key}={name}: not a local folder, and not in the Hugging Face "
                             f"cache while HF_HUB_OFFLINE=1; download it first or give a local path")


def check_output_dir(path: Path, flag: str = "--output_path") -> Path:
    """The output directory exists (or can be made) and is writable."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path}: is a file; expected a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot create it ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: not writable")
    return path


def check_url(url: str | None, flag: str = "--base_url") -> str | None:
    if url is None:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https", "file") or (parsed.scheme != "file" and not parsed.netloc):
        raise UsageError(f"{flag}: expected an http(s):// or file:// URL, got {url!r}")
    return url
