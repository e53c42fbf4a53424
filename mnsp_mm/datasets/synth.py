"""The renderer moved to :mod:`mnsp_mm.synth`; this name stays for existing imports."""
from mnsp_mm.synth import *  # noqa: F401,F403
from mnsp_mm.synth import __all__  # noqa: F401
