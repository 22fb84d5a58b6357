"""Global settings (`keras_evidential.config`)."""

import keras_evidential as ke


def test_value_checks_are_on_by_default_and_switch():
    assert ke.config.value_checks_enabled()
    try:
        ke.config.disable_value_checks()
        assert not ke.config.value_checks_enabled()
    finally:
        ke.config.enable_value_checks()
    assert ke.config.value_checks_enabled()
