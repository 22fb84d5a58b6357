"""CorrectEvidenceLoss: EDL with RED's correct-evidence regulariser (Pandey & Yu, 2023)."""

from __future__ import annotations

from typing import Any

import keras

from keras_evidential.deprecation import deprecated_class
from keras_evidential.dirichlet import correct_evidence_regularizer
from keras_evidential.labels import ignored_labels
from keras_evidential.labels import mask_ignored
from keras_evidential.labels import one_hot_targets
from keras_evidential.losses.coefficients import validate_coefficient
from keras_evidential.losses.edl_loss import EDLLoss
from keras_evidential.losses.edl_loss import edl_terms
from keras_evidential.tensor_types import Tensor
from keras_evidential.validation import assert_all
from keras_evidential.validation import concentration_condition
from keras_evidential.validation import declare_attributes
from keras_evidential.validation import Condition


def correct_evidence_loss(
    y_true: Tensor,
    alpha: Tensor,
    risk: str = "mse",
    kl_weight: float = 0.0,
    correct_evidence_weight: float = 1.0,
    validate: bool = False,
    ignore_class: int | None = None,
) -> Tensor:
    """Per-sample RED loss: `edl_loss` plus the correct-evidence regulariser.

    Formula:
    ```
    loss_i = risk(y_i, alpha_i) + kl_weight * KL(Dir(alpha_tilde_i) || Dir(1))
             - correct_evidence_weight * stop_gradient(K / S_i) * log(e_i,y_i)
    ```

    Args:
        y_true: Integer labels of shape `alpha.shape[:-1]` or one-hot labels
            of shape `alpha.shape`.
        alpha: Dirichlet concentrations `e + 1`, shape `(..., K)`.
        risk: `"mse"`, `"log"` or `"digamma"`.
        kl_weight: The KL coefficient.
        correct_evidence_weight: The regulariser's coefficient.
        validate: Whether to check the labels and that `alpha` is finite and
            >= 1, in one assert.
        ignore_class: Optional integer label of the samples (pixels) to
            leave out (see `edl_loss`): their loss is 0 and masked.

    Returns:
        The loss per sample, shape `alpha.shape[:-1]`.

    Reference:
    - Pandey & Yu, "Learn to Accumulate Evidence from All Training Samples:
      Theory and Practice", ICML 2023
    """
    conditions: list[Condition | None] = []
    y_true, valid = ignored_labels(y_true, alpha, ignore_class)
    y = one_hot_targets(y_true, alpha, conditions if validate else None)
    if validate:
        assert_all(*conditions, concentration_condition(alpha))
    return mask_ignored(
        edl_terms(y, alpha, risk, kl_weight)
        + correct_evidence_weight * correct_evidence_regularizer(y, alpha),
        valid,
    )


@keras.saving.register_keras_serializable(package="keras_evidential")
class CorrectEvidenceLoss(EDLLoss):
    """RED: EDL's loss plus the vacuity-guided correct-evidence regulariser.

    Named for what it adds to `EDLLoss` (formerly `REDLoss`, easy to confuse
    with R-EDL's `RelaxedEDLLoss`).

    Formula:
    ```
    loss = mean_i [risk(y_i, alpha_i) + kl_weight * KL(Dir(alpha_tilde_i) || Dir(1))
                   - correct_evidence_weight * stop_gradient(K / S_i) * log(e_i,y_i)]
    ```

    Where every class's evidence is near zero ("zero-evidence regions" of
    the evidence activation) the risk's gradient vanishes and a training
    sample teaches nothing; the extra term pushes up the true class's
    evidence in proportion to the vacuity, so it acts mostly there. RED
    pairs it with exponential evidence (`DirichletOutput("exp")`), with
    which `log(e_y)` is the true class's logit and the term's gradient is
    `-K / S` in [-1, 0], never vanishing. Everything else (`risk`, `kl_weight` and its
    annealing, `from_logits`, the TEDL stage) is `EDLLoss`'s.

    Args:
        correct_evidence_weight: Float >= 0, the regulariser's coefficient.
            Defaults to `1.0`.
        **kwargs: `EDLLoss` arguments (`risk`, `kl_weight`, `from_logits`,
            `evidence`, `stage`, `reduction`, `name`, `dtype`, `ignore_class`).

    Example:

    >>> loss = keras_evidential.losses.CorrectEvidenceLoss(risk="log")
    >>> round(float(loss(np.array([0]), np.array([[3.0, 1.0]]))), 4)
    -0.0589

    Reference:
    - Pandey & Yu, "Learn to Accumulate Evidence from All Training Samples:
      Theory and Practice", ICML 2023
    """

    def __init__(
        self,
        correct_evidence_weight: float = 1.0,
        name: str = "correct_evidence_loss",
        **kwargs: Any,
    ) -> None:
        if kwargs.get("from_logits"):
            raise ValueError(
                "CorrectEvidenceLoss needs the model's `alpha` (a model ending in "
                "`DirichletOutput`). Received: from_logits=True"
            )
        super().__init__(name=name, **kwargs)
        self.correct_evidence_weight = validate_coefficient(
            correct_evidence_weight, "correct_evidence_weight"
        )
        declare_attributes(self, CorrectEvidenceLoss)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return correct_evidence_loss(
            y_true, y_pred, self.risk, self.kl_weight, self.correct_evidence_weight,
            validate=True, ignore_class=self.ignore_class,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for fixed in ("from_logits", "evidence", "stage"):
            config.pop(fixed)
        config["correct_evidence_weight"] = self.correct_evidence_weight
        return config


REDLoss = deprecated_class(
    CorrectEvidenceLoss, "REDLoss", "keras_evidential.losses.correct_evidence_loss"
)
