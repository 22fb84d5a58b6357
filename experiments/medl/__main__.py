"""`python -m experiments.medl`: see `runner.py`."""

import sys

from experiments.medl.runner import main

sys.exit(main())
