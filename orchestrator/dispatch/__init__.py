"""Dispatch: the typed dispatch workflows call, and the Lambda dispatcher behind it."""
