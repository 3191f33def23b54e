"""jinja2 environment, table layout and output writers."""
