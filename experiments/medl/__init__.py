"""Reproduction of the m-EDL paper (Nagahama 2023): `python -m experiments.medl`."""
