"""``python -m dicompile.runtime.cli`` runs the ``dicompile`` command."""

import sys

from dicompile.runtime.cli.main import main

sys.exit(main())
