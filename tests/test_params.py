"""Spec grammar: parsing, typing, ranges and the errors users see."""
import pytest

from tom_harness.api.errors import UsageError
from tom_harness.api.params import Param, expand, parse_spec

PARAMS = (
    Param("m", "float", 1e-5, minimum=0),
    Param("control", "str", "none", choices=("none", "random")),
    Param("seeds", "int", 0, replicate=True),
    Param("faithful", "bool", False),
    Param("layers", "int_list", []),
)


def rows(text):
    spec = parse_spec(text)
    return expand(spec.name, PARAMS, spec.raw)


def test_defaults_and_types():
    (row,) = rows("x:m=2e-5,faithful=true,layers=[1,2]")
    assert row == {"m": 2e-5, "control": "none", "seeds": 0, "faithful": True, "layers": [1, 2]}


def test_float_range_includes_stop_and_int_range_is_half_open():
    assert [r["m"] for r in rows("x:m=0:4e-5:1e-5")] == [0.0, 1e-5, 2e-5, 3e-5, 4e-5]
    assert [r["seeds"] for r in rows("x:seeds=0:5")] == [0, 1, 2, 3, 4]
    assert [r["seeds"] for r in rows("x:seeds=[3,7]")] == [3, 7]
    assert len(rows("x:m=0:2e-5:1e-5,seeds=0:2")) == 6


@pytest.mark.parametrize(
    "text, needle",
    [
        ("x:mm=1", "did you mean 'm'"),
        ("x:control=randm", "did you mean 'random'"),
        ("x:m=abc", "parameter 'm': expected float"),
        ("x:m=-1", "must be >= 0"),
        ("x:m", "expected key=value"),
        ("x:m=1,m=2", "given twice"),
        ("x:seeds=5:0", "is empty"),
        ("x:m=0:1", "malformed range"),
        ("x:faithful=maybe", "expected bool"),
    ],
)
def test_bad_values_name_the_key(text, needle):
    with pytest.raises(UsageError, match=needle):
        rows(text)


def test_semicolon_separator_for_model_args():
    spec = parse_spec("x:m=1e-5;control=random", pair_sep=";")
    assert spec.raw == {"m": "1e-5", "control": "random"}


def test_replicate_when_limits_replicates_to_one_setting():
    from tom_harness.api.intervention import Intervention

    class Ctl(Intervention):
        name = "ctl"
        params = (Param("control", "str", "none", choices=("none", "random")),
                  Param("seed", "int", 0, replicate=True, replicate_when=("control", "random")))

    assert Ctl(control="none", seed=0).replicate_params() == []
    assert Ctl(control="none", seed=0).label() == "ctl"
    rnd = Ctl(control="random", seed=0)
    assert rnd.replicate_params() == ["seed"] and rnd.label() == "ctl:control=random,seed=0"
    assert rnd.group_label() == "ctl:control=random"
