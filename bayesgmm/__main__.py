"""``python -m bayesgmm``: the command line, as the ``bayesgmm`` script runs it.

Where it sits: the surface layer; imports only :mod:`bayesgmm.cli`.
"""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
