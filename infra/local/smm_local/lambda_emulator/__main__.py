"""``python -m smm_local.lambda_emulator``: serve the Invoke API for template.yaml."""

from smm_local.lambda_emulator import main

main()
