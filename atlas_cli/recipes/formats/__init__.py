"""One module per recipe format; each registers itself with recipes.registry.register."""
