"""Dying ReLU: how much of an evidential output has stopped producing evidence.

A ReLU evidence unit whose input is negative on every sample outputs 0 and
gets no gradient: it is dead for good. TEDL (Li et al., 2022) reports EDL runs
whose evidence died everywhere, leaving vacuity 1 for every input.
"""

import numpy as np

from keras_evidential.layers.evidence import get as get_evidence


def evidence_diagnostics(evidence):
    """Dying-ReLU statistics of an evidence matrix `(n, K)`.

    Returns:
        A dict: `zero_evidence_share`, the share of samples whose total
        evidence is exactly 0 (vacuity 1, probability uniform);
        `dead_unit_share`, the share of the K output units whose evidence is
        0 on every sample (a ReLU unit there gets no gradient); `died`, True
        when the evidence is 0 everywhere.
    """
    evidence = np.asarray(evidence)
    if evidence.ndim != 2 or evidence.shape[0] == 0:
        raise ValueError(
            "`evidence` must be a non-empty matrix (samples, classes). "
            f"Received: shape={evidence.shape}"
        )
    zero = evidence == 0
    return {
        "zero_evidence_share": float(zero.all(axis=1).mean()),
        "dead_unit_share": float(zero.all(axis=0).mean()),
        "died": bool(zero.all()),
    }


def dying_relu_report(model, inputs, evidence="relu", batch_size=1024):
    """`evidence_diagnostics` of a logits model over a whole data set.

    Args:
        model: A Keras model that outputs logits.
        inputs: What `model.predict` takes (arrays or a dataset).
        evidence: The evidence function the model is trained with.
        batch_size: Prediction batch size.
    """
    logits = model.predict(inputs, batch_size=batch_size, verbose=0)
    evidence = get_evidence(evidence)(np.asarray(logits, dtype="float32"))
    return evidence_diagnostics(np.asarray(evidence))
