"""The Lambda functions: one package per code root (CodeUri), handler paths are
``functions.<name>.app.<handler>`` (the Node function, render_image, is not a Python package)."""
