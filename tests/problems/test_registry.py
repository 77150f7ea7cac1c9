"""The problem registry: spec parsing, overrides and errors."""

import pytest

import moopt
from moopt.errors import ConfigError
from moopt.problems import available_problems, get_problem, parse_spec


def test_available_lists_every_family():
    names = available_problems()
    for n in ["zdt1", "zdt2", "zdt3", "zdt4", "zdt6", "bnh", "srn", "tnk", "osy", "c1dtlz1"]:
        assert n in names
    assert [f"dtlz{i}" for i in range(1, 8)] == [n for n in names if n.startswith("dtlz")]


@pytest.mark.parametrize("spec,expected", [
    ("zdt1", ("zdt1", {})),
    ("dtlz2:m=5", ("dtlz2", {"n_obj": 5})),
    ("dtlz2:m=3,n_var=12", ("dtlz2", {"n_obj": 3, "n_var": 12})),
    (" DTLZ4 : m = 4 , alpha=50.5 ", ("dtlz4", {"n_obj": 4, "alpha": 50.5})),
    ("c1-dtlz1:m=3", ("c1dtlz1", {"n_obj": 3})),
])
def test_parse_spec(spec, expected):
    assert parse_spec(spec) == expected


def test_get_problem_builds_sizes_from_spec():
    p = get_problem("dtlz2:m=5")
    assert isinstance(p, moopt.Problem)
    assert (p.n_obj, p.n_var) == (5, 14)
    assert p.objective_names == ["f1", "f2", "f3", "f4", "f5"]
    assert p.space.names == [f"x{i}" for i in range(14)]
    assert p.directions == ["min"] * 5
    p = get_problem("dtlz2:m=3,n_var=12")
    assert (p.n_obj, p.n_var, p.k) == (3, 12, 10)
    assert get_problem("dtlz1").n_var == 7
    assert get_problem("dtlz7:m=4").n_var == 23
    assert get_problem("zdt1").n_var == 30 and get_problem("zdt4").n_var == 10


def test_overrides_take_precedence_over_spec():
    p = get_problem("dtlz2:m=3", m=4, n_var=8)
    assert (p.n_obj, p.n_var) == (4, 8)
    assert p.name == "dtlz2:m=4,n_var=8"
    assert get_problem(p.name).n_var == 8  # the name is itself a spec


def test_unknown_problem_lists_known_ones():
    with pytest.raises(ConfigError) as exc:
        get_problem("zdt9")
    msg = str(exc.value)
    assert "zdt9" in msg and "zdt1" in msg and "dtlz7" in msg and "osy" in msg


@pytest.mark.parametrize("spec", ["dtlz2:m", "dtlz2:=3", "", "zdt1:n_var="])
def test_malformed_spec(spec):
    with pytest.raises(ConfigError):
        get_problem(spec)


def test_unknown_option_names_the_accepted_ones():
    with pytest.raises(ConfigError, match="n_obj"):
        get_problem("dtlz2:q=3")
    with pytest.raises(ConfigError, match="no options"):
        get_problem("bnh:m=3")


@pytest.mark.parametrize("spec", ["dtlz2:m=1", "dtlz2:m=3,n_var=2", "zdt1:n_var=1"])
def test_bad_sizes_raise_value_error(spec):
    with pytest.raises(ValueError):
        get_problem(spec)


def test_every_name_alias_names_a_registered_problem():
    from moopt.problems import _NAME_ALIASES

    assert _NAME_ALIASES
    for alias, target in _NAME_ALIASES.items():
        assert target in available_problems(), (alias, target)
        assert alias not in available_problems(), f"{alias!r} is both an alias and a registered name"
        assert get_problem(alias).to_config() == get_problem(target).to_config()


def test_every_problem_name_is_a_spec_that_rebuilds_it():
    """A run's stored problem name can be passed back to get_problem (e.g. to `moopt run --problem`)."""
    for name in available_problems():
        p = get_problem(name)
        again = get_problem(p.name)
        assert again.name == p.name and again.to_config() == p.to_config(), name


# ------------------------------------------------------------------ parameter types and ranges
@pytest.mark.parametrize("spec,named", [
    ("dtlz4:m=3,alpha=-1", "alpha"), ("dtlz4:alpha=0", "alpha"), ("dtlz4:alpha=nan", "alpha"),
    ("dtlz4:alpha=abc", "alpha"), ("dtlz2:m=2.5", "m"), ("dtlz2:m=abc", "m"), ("dtlz2:m=true", "m"),
    ("dtlz2:m=1000", "m"), ("dtlz2:k=0", "k"), ("dtlz2:k=-3", "k"), ("dtlz1:n_var=-1", "n_var"),
    ("dtlz7:n_var=1e9", "n_var"), ("c1dtlz1:m=1", "m"), ("zdt1:n_var=abc", "n_var"), ("zdt1:n_var=-5", "n_var"),
    ("zdt4:n_var=2.5", "n_var"), ("zdt6:n_var=1e400", "n_var"), ("knapsack:n_layers=0", "n_layers"),
    ("knapsack:n_choices=1e9", "n_choices"), ("knapsack:n_choices=1", "n_choices"), ("knapsack:seed=-1", "seed"),
    ("knapsack:cost=time", "cost"), ("synthetic-nas:max_length=0", "max_length"),
    ("synthetic-nas:alternate=maybe", "alternate"), ("synthetic-nas:instance=-1", "instance"),
    ("synthetic-nas:instance=x", "instance"),
])
def test_bad_parameter_is_a_config_error_naming_it_with_an_example(spec, named):
    with pytest.raises(ConfigError) as exc:
        get_problem(spec)
    msg = str(exc.value)
    assert f"{named} " in msg and "e.g. '" in msg and spec.split(":")[0] in msg, msg


def test_range_message_shows_value_and_range():
    with pytest.raises(ConfigError, match=r"alpha .*must be a finite number > 0, got -1; e.g. 'dtlz4:m=3,alpha=100'"):
        get_problem("dtlz4:m=3,alpha=-1")
    with pytest.raises(ConfigError, match=r"m .*integer from 2 to 100, got 2.5"):
        get_problem("dtlz2:m=2.5")
    with pytest.raises(ConfigError, match=r"n_var=5 and k=4 disagree"):
        get_problem("dtlz2:m=3,n_var=5,k=4")


def test_integral_floats_are_accepted_and_alpha_stays_in_the_name():
    assert get_problem("dtlz2:m=3.0").n_obj == 3
    p = get_problem("dtlz4:m=3,alpha=50")
    assert p.alpha == 50.0 and p.name == "dtlz4:m=3,alpha=50"
    assert get_problem(p.name).alpha == 50.0
    assert get_problem("dtlz4").name == "dtlz4:m=3"


def test_an_option_given_twice_is_an_error():
    with pytest.raises(ConfigError, match="given twice"):
        get_problem("dtlz2:m=3,n_obj=4")


def test_unknown_option_of_a_function_problem_lists_its_options():
    with pytest.raises(ConfigError, match=r"n_layers.*Did you mean 'n_layers'"):
        get_problem("knapsack:n_layer=3")
