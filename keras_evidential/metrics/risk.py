"""BayesRisk: the EDL loss's risk term alone, a quantity to monitor."""

from __future__ import annotations

from typing import Any

import keras

from keras_evidential.dirichlet import RISKS
from keras_evidential.labels import one_hot_targets
from keras_evidential.validation import check_choice


@keras.saving.register_keras_serializable(package="keras_evidential")
class BayesRisk(keras.metrics.MeanMetricWrapper):
    """The mean Bayes risk of `EDLLoss`, without its KL term.

    Formula:
    ```
    risk = mean_i risk(y_i, alpha_i)      # "mse", "log" or "digamma"
    ```

    `val_loss` of an EDL model includes `kl_weight * KL`, and `KLAnnealing`
    raises `kl_weight` every epoch, so the epochs' `val_loss` values are not
    comparable: `EarlyStopping` or `ModelCheckpoint(save_best_only=True)`
    monitoring it would favour the least regularised (earliest) epoch.
    Monitor `"val_risk"` (this metric) instead, whose definition does not
    change during training.

    Args:
        risk: The Bayes risk, as in `EDLLoss`: `"mse"` (default), `"log"`
            or `"digamma"`.
        name: The metric's name. Defaults to `"risk"`, logged as `"risk"`
            and `"val_risk"`.
        dtype: The dtype of the metric's computations.

    Example:

    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(3),
    ...     keras_evidential.layers.DirichletOutput()])
    >>> model.compile(optimizer="adam",
    ...               loss=keras_evidential.losses.EDLLoss(),
    ...               metrics=[keras_evidential.metrics.BayesRisk()])
    >>> stop = keras.callbacks.EarlyStopping(monitor="val_risk", patience=3)

    Reference:
    - [Sensoy et al., 2018](https://arxiv.org/abs/1806.01768)
    """

    def __init__(
        self, risk: str = "mse", name: str = "risk", dtype: str | None = None
    ) -> None:
        check_choice(risk, "risk", sorted(RISKS))
        super().__init__(_risk_fn(risk), name=name, dtype=dtype)
        self.risk = risk
        # Lower is better, for callbacks that infer the direction.
        self._direction = "down"

    def get_config(self) -> dict[str, Any]:
        return {"risk": self.risk, "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> BayesRisk:
        return cls(**config)


def _risk_fn(risk):
    def fn(y_true, y_pred):
        return RISKS[risk](one_hot_targets(y_true, y_pred), y_pred)

    fn.__name__ = f"{risk}_risk"
    return fn
