"""The two small optimisers of the calibrators: one positive number, or a vector.

Both evaluate the objective (a `keras.ops` function of the calibration
outputs) and keep the parameters in float64 NumPy, so they run the same way
on every backend, with no gradient tape.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable

import numpy as np

from keras_evidential.tensor_types import ArrayLike

# 10 points per decade. The golden section then assumes the objective is
# unimodal between the best point's neighbours (a narrower claim than
# unimodal over the whole range, which the evidence temperature's NLL,
# not convex in T, need not be).
GRID_POINTS_PER_DECADE = 10
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def minimise_positive(
    objective: Callable[[float], float],
    low: float = 1e-3,
    high: float = 1e3,
    tolerance: float = 1e-6,
    argument: str = "value",
) -> float:
    """The `t` in `[low, high]` that minimises `objective(t)`, searched in `log t`.

    A log-spaced grid finds the best point; a golden-section search between
    its neighbours refines it to `tolerance` in `log t`. An optimum on the
    edge of the range is returned with a warning naming `argument`.
    """
    decades = math.log10(high) - math.log10(low)
    grid = np.logspace(
        math.log10(low), math.log10(high), int(decades * GRID_POINTS_PER_DECADE) + 1
    )
    values = [objective(float(t)) for t in grid]
    if not np.all(np.isfinite(values)):
        values = [v if np.isfinite(v) else np.inf for v in values]
    best = int(np.argmin(values))
    if best in (0, len(grid) - 1):
        warnings.warn(
            f"The fitted `{argument}` lies on the edge of the search range "
            f"[{low:g}, {high:g}]: the calibration set asks for a more extreme "
            f"value. Received: {argument}={grid[best]:g}",
            stacklevel=3,
        )
        return float(grid[best])
    a, b = math.log(grid[best - 1]), math.log(grid[best + 1])

    def at(log_t):
        return objective(math.exp(log_t))

    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = at(c), at(d)
    while b - a > tolerance:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = at(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = at(d)
    return float(math.exp((a + b) / 2.0))


def minimise(
    objective_and_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: ArrayLike,
    max_iterations: int = 500,
    tolerance: float = 1e-7,
) -> np.ndarray:
    """Gradient descent with Barzilai-Borwein steps and Armijo backtracking.

    Args:
        objective_and_gradient: `theta -> (f, grad)`, float64 NumPy in and out.
        start: The initial parameters.
        max_iterations: The most gradient steps.
        tolerance: Stops when the largest gradient entry is below it, or when
            a step lowers the objective by less than `tolerance^2 (1 + |f|)`
            (the objective's rounding, where it is float32, stops it there).

    Returns:
        The parameters reached, float64 NumPy.
    """
    theta = np.asarray(start, "float64")
    value, gradient = objective_and_gradient(theta)
    step = 1.0
    for _ in range(max_iterations):
        if np.max(np.abs(gradient)) < tolerance:
            break
        # Armijo: halve the step until the objective falls enough.
        while True:
            candidate = theta - step * gradient
            new_value, new_gradient = objective_and_gradient(candidate)
            if new_value <= value - 1e-4 * step * np.dot(gradient, gradient):
                break
            step /= 2.0
            if step < 1e-12:
                return theta
        converged = value - new_value < tolerance**2 * (1.0 + abs(value))
        change, gradient_change = candidate - theta, new_gradient - gradient
        curvature = np.dot(change, gradient_change)
        step = np.dot(change, change) / curvature if curvature > 0 else 1.0
        theta, value, gradient = candidate, new_value, new_gradient
        if converged:
            break
    return theta
