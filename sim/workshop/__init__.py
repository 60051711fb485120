"""The workshop page for trainers: a Solara app over the model (see app.py)."""
