"""The app's widgets, one per module; each only draws frozen view data it is given."""
