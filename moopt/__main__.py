import sys

from moopt.cli import main

sys.exit(main())
