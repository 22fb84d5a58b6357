"""for_model: metrics configured with a model's output settings."""

from __future__ import annotations

import inspect
from typing import Any
from typing import Sequence

import keras
from keras_evidential.validation import check_choice


# The settings `keras_evidential.model_kind` reads from a model, under the
# names of the metrics' constructor arguments.
MODEL_SETTINGS = ("unknown_class", "prior_concentration", "minimum_alpha", "flexible")


def _metric_class(identifier, classes):
    if isinstance(identifier, type) and identifier in classes:
        return identifier
    by_name = {cls.__name__: cls for cls in classes}
    for cls in classes:
        default = getattr(cls, "default_name", None)
        if default is None:
            default = inspect.signature(cls.__init__).parameters["name"].default
        if default is not None:
            by_name.setdefault(default, cls)
    return by_name[check_choice(identifier, "metrics", sorted(by_name))]


def for_model(
    model: keras.Model, metrics: Sequence[str], **kwargs: Any
) -> list[keras.metrics.Metric]:
    """The named metrics, configured with the model's output settings.

    Every classification metric takes settings that describe the model's
    output: `unknown_class` (m-EDL's K + 1 outputs), `prior_concentration` and
    `minimum_alpha` (R-EDL's `alpha = e + lambda`, DAEDL's `alpha > 0`) and
    `flexible` (F-EDL's packed `[alpha, p, tau]`). Keras gives a compiled
    metric only `y_true` and `y_pred`, so a metric cannot see the model:
    this function reads them with `keras_evidential.model_kind` and passes
    them to each metric, as `evaluate_uncertainty` does.

    Args:
        model: A built Keras classifier whose output is `alpha` (an output
            layer of this package, or compiled with `EDLLoss`).
        metrics: A list of metric classes of `keras_evidential.metrics`,
            their names (`"UnknownClassAUPR"`) or default metric names
            (`"unknown_aupr"`).
        **kwargs: Other constructor arguments (e.g. `threshold=0.3`), given
            to each metric that takes them. The model settings are not
            accepted here: they come from the model.

    Returns:
        A list of configured metrics, for `model.compile(metrics=...)`.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput(prior_concentration=0.1)])
    >>> [metric] = keras_evidential.metrics.for_model(model, ["known_accuracy"])
    >>> metric.prior_concentration
    0.1
    """
    from keras_evidential.metrics import ALL_OBJECTS
    from keras_evidential.model_kind import model_kind

    given = sorted(set(kwargs) & set(MODEL_SETTINGS))
    if given:
        raise ValueError(
            f"`for_model` reads {', '.join(given)} from the model; build the "
            f"metric directly to set it by hand. Received: {given[0]}="
            f"{kwargs[given[0]]!r}"
        )
    kind = model_kind(model)
    if kind.output != "alpha":
        raise ValueError(
            "The compiled metrics take alpha, and this model outputs logits "
            "(their Dirichlet depends on the loss's evidence function). "
            "Evaluate it with keras_evidential.evaluation.evaluate_uncertainty"
            "(model, x, y), or end it in DirichletOutput. "
            f"Received: a model with output={kind.output!r}"
        )
    settings = {
        "unknown_class": kind.unknown_class,
        "prior_concentration": kind.prior_concentration,
        "minimum_alpha": kind.minimum_alpha,
        "flexible": kind.flexible,
    }
    configured = []
    for identifier in metrics:
        cls = _metric_class(identifier, ALL_OBJECTS)
        accepted = inspect.signature(cls.__init__).parameters
        arguments = {
            key: value
            for key, value in {**settings, **kwargs}.items()
            if key in accepted
        }
        configured.append(cls(**arguments))
    return configured
