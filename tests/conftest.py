"""Suite-wide test settings.

Under CI (``CI`` set, as `.ci/run` is run), Hypothesis draws the same examples on
every run (``derandomize``): a red CI then means the change, not the draw. Local
runs keep exploring new examples.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
