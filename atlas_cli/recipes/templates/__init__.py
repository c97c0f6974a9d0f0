"""Code blocks that `atlas_cli.recipes` assembles into runnable Python recipes.

They are `string.Template` texts (`$name` placeholders), not format strings, because the code
they hold is full of braces. Each block is plain Python for the library versions named in
`atlas_cli.recipes.WRITTEN_FOR`; tests/test_recipes.py parses and lints every combination and
tests/test_recipes_run.py runs the common ones on a tiny model.
"""
