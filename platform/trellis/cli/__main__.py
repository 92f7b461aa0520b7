"""``python -m trellis.cli``: the ``trellis`` command."""

from trellis.cli import main

main()
