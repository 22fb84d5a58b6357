"""RED's correct-evidence regulariser (Pandey & Yu, ICML 2023)."""

from keras import ops

from keras_evidential.dirichlet.parameters import vacuity


def correct_evidence_regularizer(y, alpha, prior_weight=1.0):
    """`-stop_gradient(u) * e_y`: more evidence for the true class, per sample.

    Formula:
    ```
    L_cor = -u * sum_j y_j (alpha_j - prior_weight),   u = prior_weight K / S
    ```

    with the vacuity `u` held constant (no gradient through it). An evidence
    activation has regions where every class's evidence is (near) zero, and
    there the risks' gradients vanish, so such training samples teach the
    model nothing ("zero-evidence regions"). This term's gradient is
    `-u de_y/dz`, largest exactly where the vacuity is high, and pulls the
    true class's evidence up there; it fades as the sample becomes certain.
    With exponential evidence its gradient never vanishes; with ReLU it
    still vanishes for negative logits.

    Reference:
    - Pandey & Yu, "Learn to Accumulate Evidence from All Training Samples:
      Theory and Practice", ICML 2023 (the vacuity-guided correct-evidence
      regulariser, section 5)
    """
    y, alpha = (ops.convert_to_tensor(t) for t in (y, alpha))
    u = ops.stop_gradient(vacuity(alpha, prior_weight))
    evidence = alpha - ops.cast(prior_weight, alpha.dtype)
    return -u * ops.sum(y * evidence, axis=-1)
