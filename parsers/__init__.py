"""Pure functions from page bytes to typed records. No I/O, nothing else of ours."""
