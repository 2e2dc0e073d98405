"""`python -m genai_operator` is the `genai-operator` command."""

from genai_operator.cli import main

raise SystemExit(main())
