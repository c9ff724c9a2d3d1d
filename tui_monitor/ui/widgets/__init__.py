"""The app's widgets, one per module; each only draws frozen model data it is given."""
