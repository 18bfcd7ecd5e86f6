"""``python -m simulator`` runs the carriersim command line."""

from simulator.cli import main

raise SystemExit(main())
