"""The units' portal: per-unit sign-in, templates, uploads validated at once,
history of every version, and the coordinating office's overview."""
