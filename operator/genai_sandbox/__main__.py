"""`python -m genai_sandbox`, the same as the `genai-sandbox` command."""

import sys

from genai_sandbox.cli import main

sys.exit(main())
