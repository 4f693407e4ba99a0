"""One typing vocabulary (``tom_harness.api.values``) for spec, config, model-args and gen-kwargs values."""
from __future__ import annotations

import pytest
from lm_eval.utils import simple_parse_args_string

from tom_harness.api import values
from tom_harness.api.errors import UsageError
from tom_harness.api.params import Param
from tom_harness.spec.matrix import build_spec

KV = "a=1,b=true,c=0.5,d=abc,e=1e3,f=False,g=-2,h=./x,i=007,j=TRUE"


def test_kv_reading_is_lm_evals():
    """``--model_args``/``--gen_kwargs`` text is read as lm-eval reads its own ``--model_args``."""
    assert values.parse_kv(KV, "--model_args") == simple_parse_args_string(KV)


def test_flag_text_and_config_values_type_alike():
    """The same option from a flag (text) and from a YAML config (typed) gives the same spec."""
    flags = build_spec({}, {"tasks": "t1,t2", "model_args": "pretrained=x,max_length=512,dtype=float32",
                            "gen_kwargs": "max_gen_toks=8,temperature=0", "limit": "0.5", "seed": "3",
                            "batch_size": "4", "repeats": "2"})
    config = build_spec({"tasks": ["t1", "t2"], "model_args": {"pretrained": "x", "max_length": 512, "dtype": "float32"},
                         "gen_kwargs": {"max_gen_toks": 8, "temperature": 0}, "limit": 0.5, "seed": 3,
                         "batch_size": 4, "repeats": 2}, {})
    assert flags.to_dict() == config.to_dict()
    assert flags.model_args["max_length"] == 512 and flags.gen_kwargs["temperature"] == 0.0 and flags.limit == 0.5


def test_one_vocabulary_one_message_per_surface():
    """A kind says what it expects in the same words wherever the value came from."""
    expect = "expected an integer >= 1, got 'abc'"
    for where, call in (("--model_args max_length", lambda: values.model_args("pretrained=x,max_length=abc")),
                        ("--gen_kwargs max_gen_toks", lambda: values.gen_kwargs("max_gen_toks=abc")),
                        ("config key 'repeats'", lambda: build_spec({"tasks": "t", "repeats": "abc"}, {}))):
        with pytest.raises(UsageError, match=f"^{where}: expected an integer >= 1"):
            call()
    with pytest.raises(UsageError, match=expect):
        values.check("int+", "abc", "x")
    with pytest.raises(UsageError, match=r"parameter 'n': expected int, got 'abc'"):
        Param("n", "int", 1).convert("abc", "iv")


def test_tomh_model_args_are_typed_like_the_flag(tiny_model_dir):
    """``tomh`` (lm-eval's own CLI) checks its model args with the same vocabulary as ``--model_args``."""
    from tom_harness.run.tomh_model import TomhLM

    with pytest.raises(UsageError, match="tomh model_args max_length: expected an integer >= 1, got 'abc'"):
        TomhLM(pretrained=str(tiny_model_dir), max_length="abc", device="cpu")
    with pytest.raises(UsageError, match="tomh batch_size: expected an integer >= 1 or auto"):
        TomhLM(pretrained=str(tiny_model_dir), batch_size="0", device="cpu")
