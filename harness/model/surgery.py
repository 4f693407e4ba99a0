"""Model surgery: where a causal LM's decoder blocks, linear projections and residual stream are.

One module knows the layouts, so weight and activation interventions do not each guess: decoder
blocks, linear projections with roles (``q`` ... ``down``, fused ``qkv`` / ``gate_up``), where an
HF weight lives in a fused layout, and residual-stream hooks: ``residual_hook`` with
``keep``/``release`` (handles parked on the model under a token), and ``StreamHooks`` /
``RemoveStreamHooks``, install and remove as picklable ``fn(model)`` calls for
``ModelHandle.apply_to_model`` (vLLM runs them in its workers: each stream ``fn`` must pickle, a
class instance, not a closure). Localizer lesions and steering both install through them.

Two layouts are understood. ``hf``: transformers modules; a block returns the residual stream
(a tensor, or a tuple whose first element it is). ``vllm``: vLLM's model classes; a block returns
the pair ``(hidden_states, residual)`` whose *sum* is the residual stream (vLLM adds them inside
the next block's fused add-and-norm). Blocks are found by shape, not by per-model tables: the
``nn.ModuleList`` of same-type blocks, preferring the config's layer count, not a vision tower,
and the most parameters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch
from torch import nn

#: leaf module name -> role. Covers Llama/Mistral/Qwen/Gemma, OPT, GPT-2, GPT-NeoX, Falcon, Phi,
#: Mixtral experts (w1 gate, w3 up, w2 down), and vLLM's fused qkv_proj / gate_up_proj.
ROLE_OF_LEAF = {
    "q_proj": "q", "query": "q", "wq": "q",
    "k_proj": "k", "key": "k", "wk": "k",
    "v_proj": "v", "value": "v", "wv": "v",
    "o_proj": "o", "out_proj": "o", "wo": "o",
    "qkv_proj": "qkv", "query_key_value": "qkv", "c_attn": "qkv", "Wqkv": "qkv",
    "gate_proj": "gate", "w1": "gate", "gate_up_proj": "gate_up",
    "up_proj": "up", "fc1": "up", "c_fc": "up", "dense_h_to_4h": "up", "fc_in": "up", "w3": "up",
    "down_proj": "down", "fc2": "down", "dense_4h_to_h": "down", "fc_out": "down", "w2": "down",
}
_CONTEXT_LEAVES = {"dense": ("o", "down"), "c_proj": ("o", "down")}  # attention: o, MLP: down
_ROUTER_LEAVES = {"router", "gate"}
#: the order of roles in tables (the paper's seven first)
ROLE_ORDER = ("q", "k", "v", "o", "qkv", "gate", "up", "down", "gate_up")
#: HF leaf -> (fused vLLM leaf, the HF leaves stacked in it, in row order)
FUSED = {**{leaf: ("qkv_proj", ("q_proj", "k_proj", "v_proj")) for leaf in ("q_proj", "k_proj", "v_proj")},
         **{leaf: ("gate_up_proj", ("gate_proj", "up_proj")) for leaf in ("gate_proj", "up_proj")}}
_HOOKS_ATTR = "_tom_harness_hooks"


@dataclass(frozen=True)
class Target:
    """One linear projection weight: ``param`` is its full parameter name in the model."""

    param: str
    layer: int
    role: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


# -- layout and blocks ----------------------------------------------------------------------------
def layout(model: nn.Module) -> str:
    """``vllm`` for vLLM's model classes (blocks return ``(hidden, residual)``), else ``hf``."""
    return "vllm" if type(model).__module__.startswith("vllm.") else "hf"


def is_linear(mod: nn.Module) -> bool:
    """``nn.Linear``, GPT-2's ``Conv1D`` or any of vLLM's ``LinearBase`` layers."""
    if isinstance(mod, nn.Linear):
        return True
    names = {cls.__name__ for cls in type(mod).__mro__}
    if "LinearBase" in names:
        return True
    return "Conv1D" in names and isinstance(getattr(mod, "weight", None), torch.Tensor)


def _layer_count(model: nn.Module) -> int | None:
    config = getattr(model, "config", None)
    if config is None:
        return None
    if hasattr(config, "get_text_config"):
        config = config.get_text_config()
    for attr in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def block_list(model: nn.Module) -> tuple[str, nn.ModuleList]:
    """Dotted name and the ``nn.ModuleList`` of decoder blocks.

    Candidates are lists of same-type modules that contain a linear layer but are not themselves
    linear layers. Preference: length equal to the config's (text) layer count, not inside a vision
    tower, then the most parameter entries.
    """
    want = _layer_count(model)
    best: tuple[tuple, str, nn.ModuleList] | None = None
    for name, mod in model.named_modules():
        if not isinstance(mod, nn.ModuleList) or len(mod) == 0 or len({type(m) for m in mod}) != 1:
            continue
        if is_linear(mod[0]) or not any(is_linear(m) for m in mod[0].modules()):
            continue
        visual = any(w in name.lower() for w in ("vision", "visual", "image", "vit"))
        size = sum(p.numel() for p in mod.parameters())
        key = (want is not None and len(mod) == want, not visual, size)
        if best is None or key > best[0]:
            best = (key, name, mod)
    if best is None:
        raise ValueError(f"no decoder block list with linear layers found in {type(model).__name__}")
    return best[1], best[2]


def decoder_blocks(model: nn.Module) -> list[nn.Module]:
    """The decoder blocks of ``model`` in order (HF or vLLM layout)."""
    return list(block_list(model)[1])


# -- linear projections ---------------------------------------------------------------------------
def role_for(path_in_block: str) -> str | None:
    """Role of a linear layer from its dotted path inside a block; None for an MoE router."""
    parts = path_in_block.split(".")
    leaf = parts[-1]
    if leaf in _ROUTER_LEAVES:
        return None
    if leaf in ROLE_OF_LEAF:
        return ROLE_OF_LEAF[leaf]
    if leaf in _CONTEXT_LEAVES:
        in_attn = any("attn" in p.lower() or "attention" in p.lower() for p in parts[:-1])
        return _CONTEXT_LEAVES[leaf][0 if in_attn else 1]
    return leaf


def role_rank(role: str) -> tuple[int, str]:
    """Sort key putting the paper's roles first, in the paper's order."""
    return (ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER), role)


def target_linears(model: nn.Module, roles: Iterable[str] | None = None) -> list[Target]:
    """Every linear projection weight inside the decoder blocks, in model order.

    ``roles`` keeps only those roles (e.g. ``{"q", "v"}``); unknown leaf names keep their leaf name
    as role, so nothing is silently dropped.
    """
    prefix, blocks = block_list(model)
    wanted = set(roles) if roles is not None else None
    out: list[Target] = []
    for layer, block in enumerate(blocks):
        for sub, mod in block.named_modules():
            if not sub or not is_linear(mod):
                continue
            role = role_for(sub)
            if role is None or (wanted is not None and role not in wanted):
                continue
            param = f"{prefix}.{layer}.{sub}.weight" if prefix else f"{layer}.{sub}.weight"
            out.append(Target(param=param, layer=layer, role=role, shape=tuple(mod.weight.shape)))
    if not out:
        raise ValueError(f"no linear projections found inside the blocks of {type(model).__name__}")
    return out


def locate_weight(params: dict[str, torch.Tensor], param: str, shapes: dict[str, tuple[int, ...]]) -> tuple[str, int]:
    """Name of the tensor holding the HF-layout weight ``param`` and the flat offset of its block.

    On a fused layout (vLLM's ``qkv_proj``, ``gate_up_proj``) the rows are stacked in HF order;
    ``shapes`` gives the HF shapes of the stacked parts. Needs the whole fused matrix here
    (tensor parallel size 1).
    """
    if param in params:
        return param, 0
    module, _, leaf_w = param.rpartition(".")
    prefix, _, leaf = module.rpartition(".")
    if leaf not in FUSED or leaf_w != "weight":
        raise KeyError(f"weight {param} not found in the model")
    fused_leaf, parts = FUSED[leaf]
    fused = f"{prefix}.{fused_leaf}.weight"
    if fused not in params:
        raise KeyError(f"weight {param} not found (nor a fused {fused})")
    part_shapes = [shapes.get(f"{prefix}.{p}.weight") for p in parts]
    if any(s is None for s in part_shapes):
        raise KeyError(f"fused {fused}: the plan lacks the shapes of {parts}")
    rows = sum(s[0] for s in part_shapes)
    got = tuple(params[fused].shape)
    if got != (rows, part_shapes[0][1]):
        why = ("vLLM's CPU backend prepacked it for oneDNN and dropped the dense weight; "
               "load with model_args cpu_prepack=false (the default)") if got == (0,) else \
            "tensor-parallel sharded weights are not supported"
        raise ValueError(f"fused {fused} has shape {got}, expected ({rows}, {part_shapes[0][1]}): {why}")
    row_offset = sum(s[0] for s in part_shapes[: parts.index(leaf)])
    return fused, row_offset * part_shapes[0][1]


# -- residual stream ------------------------------------------------------------------------------
def block_hidden(output: Any) -> torch.Tensor:
    """The residual-stream tensor an HF block returns: the output itself, or its first element."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise TypeError(f"unexpected decoder block output {type(output).__name__}")


def replace_hidden(output: Any, hidden: torch.Tensor) -> Any:
    """``output`` with its residual-stream tensor replaced, keeping the container type (HF)."""
    if isinstance(output, torch.Tensor):
        return hidden
    if isinstance(output, list):
        return [hidden, *output[1:]]
    if type(output) is tuple:
        return (hidden, *output[1:])
    return type(output)((hidden, *output[1:]))  # namedtuple-like containers


StreamFn = Callable[[torch.Tensor], "torch.Tensor | None"]


def _hf_hook(fn: StreamFn):
    def hook(module: nn.Module, args: Any, output: Any) -> Any:
        new = fn(block_hidden(output))
        return None if new is None else replace_hidden(output, new)

    return hook


def _vllm_hook(fn: StreamFn):
    def hook(module: nn.Module, args: Any, output: Any) -> Any:
        if isinstance(output, torch.Tensor):  # models without a separate residual (e.g. GPT-2)
            return fn(output)
        hidden, residual = output
        stream = hidden if residual is None else hidden + residual
        new = fn(stream)
        if new is None:
            return None
        # the next block (or the final norm) adds the pair: 0 + new is new, bit for bit
        return torch.zeros_like(new), new

    return hook


def residual_hook(model: nn.Module, layer: int, fn: StreamFn) -> torch.utils.hooks.RemovableHandle:
    """Call ``fn(stream)`` on the residual stream after block ``layer``, at every position.

    ``stream`` is ``[..., hidden]`` (batch × tokens on HF, flattened tokens on vLLM); returning
    a tensor of the same shape and dtype replaces the stream, returning None leaves it. On vLLM
    the hook runs in the worker and needs ``enforce_eager`` (compiled graphs skip hooks).
    """
    blocks = decoder_blocks(model)
    if not -len(blocks) <= layer < len(blocks):
        raise IndexError(f"layer {layer} out of range: the model has {len(blocks)} blocks")
    make = _vllm_hook if layout(model) == "vllm" else _hf_hook
    return blocks[layer].register_forward_hook(make(fn))


def keep(model: nn.Module, token: str, handles: list) -> None:
    """Park ``handles`` on the model under ``token`` (for a later ``release`` in the same process)."""
    registry: dict[str, list] = model.__dict__.setdefault(_HOOKS_ATTR, {})
    if token in registry:
        for h in handles:
            h.remove()
        raise RuntimeError(f"hooks {token} are already installed")
    registry[token] = list(handles)


def release(model: nn.Module, token: str) -> int:
    """Remove the hooks parked under ``token``; returns how many were removed."""
    registry: dict[str, list] = model.__dict__.get(_HOOKS_ATTR, {})
    handles = registry.pop(token, [])
    for h in handles:
        h.remove()
    if not registry and _HOOKS_ATTR in model.__dict__:
        del model.__dict__[_HOOKS_ATTR]
    return len(handles)


@dataclass(frozen=True)
class StreamHooks:
    """``fn(model) -> int``: ``residual_hook`` on each layer of ``fns``, parked under ``token``."""

    token: str
    fns: dict[int, StreamFn]

    def __call__(self, model: nn.Module) -> int:
        n = len(decoder_blocks(model))
        if bad := sorted(layer for layer in self.fns if not -n <= layer < n):
            raise IndexError(f"layers {bad} out of range: the model has {n} blocks")
        handles = [residual_hook(model, layer, fn) for layer, fn in sorted(self.fns.items())]
        keep(model, self.token, handles)  # raises (and removes them) if the token is in use
        return len(handles)


@dataclass(frozen=True)
class RemoveStreamHooks:
    """``fn(model) -> int``: remove the hooks parked under ``token``."""

    token: str

    def __call__(self, model: nn.Module) -> int:
        return release(model, self.token)
