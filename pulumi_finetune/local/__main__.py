"""``python -m pulumi_finetune.local``: the same as ``pulumi-finetune-local``."""

import sys

from .cli import main

sys.exit(main())
