"""``python -m videogen_cli`` runs the ``videogen`` command."""

import sys

from .main import main

sys.exit(main())
