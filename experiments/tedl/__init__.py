"""The TEDL study (Li, Shen, Charles, 2022) on public text-pair tasks."""
