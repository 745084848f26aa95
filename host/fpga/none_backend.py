"""The `none` backend: no board. Placeholder until the kill-switch model is merged."""
