"""`python -m genai_model_loader`: the image's entrypoint."""

from genai_model_loader.cli import main

raise SystemExit(main())
