"""`python -m experiments.tedl`: see `runner.py`."""

import sys

from experiments.tedl.runner import main

sys.exit(main())
