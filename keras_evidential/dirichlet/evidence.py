"""Evidence functions: map logits to non-negative evidence.

Each is a pure function on tensors; the layers in `keras_evidential.layers`
wrap them, and `EDLLoss(from_logits=True)` calls them through those layers.
"""

from __future__ import annotations

from keras import ops

from keras_evidential.tensor_types import Tensor


def relu_evidence(logits: Tensor) -> Tensor:
    """`max(z, 0)`: the original EDL choice (Sensoy et al., 2018).

    Its gradient is zero for negative logits, so output units can die.
    """
    return ops.relu(logits)


def softplus_evidence(logits: Tensor) -> Tensor:
    """`log(1 + exp(z))`: smooth and positive everywhere."""
    return ops.softplus(logits)


# The logit floor of the `exp` heads whose upper clip only guards overflow
# (DAEDL, F-EDL): alpha >= exp(-10) ~ 4.5e-5 keeps the KL to Dir(1), which
# grows as 1 / alpha, and its gradient moderate (at -20 DAEDL's loss reached 1e7).
LOWEST_LOGIT = -10.0


def exp_evidence(
    logits: Tensor, clip_value: float = 10.0, min_value: float | None = None
) -> Tensor:
    """`exp(clip(z, min_value, clip_value))`; `min_value` None means `-clip_value`.

    Unclamped `exp` overflows float32 at z ~ 88 (and float16 at z ~ 11), so the
    logits are clipped first. Past either bound the logit gets no gradient.
    """
    if min_value is None:
        min_value = -clip_value
    return ops.exp(ops.clip(logits, min_value, clip_value))


def elu_evidence(logits: Tensor, offset: float = 1.0) -> Tensor:
    """`ELU(z) + offset`, TEDL's choice (Li et al., 2022).

    ELU's range is (-1, inf) and its gradient never vanishes, so no output unit
    can die. With the default `offset=1` the evidence lies in (0, inf).
    """
    logits = ops.convert_to_tensor(logits)
    return ops.elu(logits) + ops.cast(offset, logits.dtype)
