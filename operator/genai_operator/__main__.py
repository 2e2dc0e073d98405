"""`python -m genai_operator` is the `genai-operator` command."""

from genai_operator.cli.main import main

raise SystemExit(main())
