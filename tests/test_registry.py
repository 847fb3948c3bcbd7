import pytest

from bench.execute.suites import SUITES
from bench.models import MODELS
from bench.registry import Registry, UnknownName
from bench.run.config import RunConfig
from tasks.base import TASKS, parse_variant_value


def test_unknown_names_list_the_valid_ones():
    for registry, good in ((TASKS, "recall"), (MODELS, "lstm"), (SUITES, "quick")):
        with pytest.raises(UnknownName) as caught:
            registry["no-such-thing"]
        message = str(caught.value)
        assert "no-such-thing" in message and good in message and "\n" not in message


def test_registering_a_name_twice_fails():
    registry = Registry("widget")
    registry.add("a", 1)
    with pytest.raises(ValueError, match="twice"):
        registry.add("a", 2)


def test_the_six_core_models_and_two_core_tasks_are_registered():
    assert {"rnn", "lstm", "gru", "bilstm", "transformer", "transformer_causal"} <= set(MODELS.names())
    assert {"recall", "fill_in"} <= set(TASKS.names())
    assert TASKS["recall"].family == "long_range" and TASKS["fill_in"].family == "bidirectional"


def test_variant_keys_and_values_are_checked():
    recall = TASKS["recall"]
    assert parse_variant_value(recall, "distance", "64") == 64
    with pytest.raises(ValueError, match="valid: distance"):
        parse_variant_value(recall, "distanse", "64")
    with pytest.raises(ValueError, match="not a int"):
        parse_variant_value(recall, "distance", "far")
    with pytest.raises(ValueError, match="no variant key"):
        recall.variant({"colour": 3})
    with pytest.raises(ValueError, match="distance must be >= 0"):
        recall.variant({"distance": -1})


def test_config_rejects_unknown_and_mistyped_keys():
    with pytest.raises(ValueError, match="unknown config key 'step'"):
        RunConfig.from_dict({"task": "recall", "model": "lstm", "step": 3})
    with pytest.raises(ValueError, match="steps"):
        RunConfig(task="recall", model="lstm", steps="10")
    with pytest.raises(ValueError, match="device"):
        RunConfig(task="recall", model="lstm", device="tpu")


def test_run_id_is_a_content_hash():
    a = RunConfig(task="recall", model="lstm", variant={"distance": 3})
    assert a.run_id(1) == RunConfig(task="recall", model="lstm", variant={"distance": 3}).run_id(1)
    assert a.run_id(1) != a.replace(seed=1).run_id(1)
    assert a.run_id(1) != a.run_id(2)  # a new task version re-runs
