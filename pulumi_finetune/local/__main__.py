"""``python -m pulumi_finetune.local``: the same as ``pulumi-finetune-local``."""

import sys

from .entry import main

sys.exit(main())
