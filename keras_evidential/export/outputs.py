"""Choosing which named outputs a serving signature returns."""


def selected_outputs(outputs, names):
    """`outputs` checked against the serving outputs `names` (all if None)."""
    if outputs is None:
        return names
    if isinstance(outputs, str):
        outputs = (outputs,)
    selected = tuple(outputs)
    unknown = [name for name in selected if name not in names]
    if not selected or unknown or len(set(selected)) != len(selected):
        raise ValueError(
            f"`outputs` must be distinct names among {names}. "
            f"Received: outputs={outputs!r}"
        )
    return selected
