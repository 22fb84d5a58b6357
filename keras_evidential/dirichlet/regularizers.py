"""RED's correct-evidence regulariser (Pandey & Yu, ICML 2023)."""

from __future__ import annotations

from keras import ops

from keras_evidential.deprecation import renamed_argument
from keras_evidential.dirichlet.parameters import vacuity
from keras_evidential.tensor_types import Tensor


# The log's floor: ReLU evidence can be exactly 0.
_EVIDENCE_FLOOR = 1e-7


@renamed_argument("prior_weight", "prior_concentration")
def correct_evidence_regularizer(
    y: Tensor, alpha: Tensor, prior_concentration: float = 1.0
) -> Tensor:
    """`-stop_gradient(u) * log(e_y)`: more evidence for the true class, per sample.

    Formula:
    ```
    L_cor = -u * sum_j y_j log(alpha_j - prior_concentration),   u = prior_concentration K / S
    ```

    with the vacuity `u` held constant (no gradient through it) and the
    evidence floored at 1e-7 inside the log. An evidence activation has
    regions where every class's evidence is (near) zero, and there the
    risks' gradients vanish, so such training samples teach the model
    nothing ("zero-evidence regions"). With exponential evidence,
    `log(e_y)` is the true class's logit `z_y`, so this term's gradient in
    the logits is `-u` for the true class: within [-1, 0], largest exactly
    where the vacuity is high, and fading as the sample becomes certain
    (the paper's Theorem 3). With ReLU evidence it still vanishes for
    negative logits.

    Args:
        y: One-hot targets, `(..., K)`.
        alpha: Dirichlet concentrations, `(..., K)`.
        prior_concentration: The prior weight of `alpha = evidence + prior_concentration`.

    Returns:
        The regulariser per sample, `(...)`.

    Example:

    >>> y, alpha = np.array([[1.0, 0.0]]), np.array([[3.0, 1.0]])
    >>> value = keras_evidential.dirichlet.correct_evidence_regularizer(y, alpha)
    >>> round(float(value[0]), 4)  # -(2 / 4) * log(2)
    -0.3466

    Reference:
    - Pandey & Yu, "Learn to Accumulate Evidence from All Training Samples:
      Theory and Practice", ICML 2023 (the vacuity-guided correct-evidence
      regulariser; the authors' code writes `log(e_y)` as the logit of
      exponential evidence)
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    u = ops.stop_gradient(vacuity(alpha, prior_concentration))
    evidence = alpha - ops.cast(prior_concentration, alpha.dtype)
    log_evidence = ops.log(ops.maximum(evidence, _EVIDENCE_FLOOR))
    return -u * ops.sum(y * log_evidence, axis=-1)
