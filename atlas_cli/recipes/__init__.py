"""Recipes: one ranked plan written out as a runnable Python script or a trainer's YAML config.

- settings.py resolves a plan into every setting a recipe writes, each with its source;
- header.py writes the comment block every recipe starts with;
- registry.py finds the formats: one module each in formats/ (python, llamafactory, axolotl, mlx);
- writer.py checks that a format can express a plan and renders it;
- templates/ holds the blocks of the generated Python.

This package's __init__ stays empty so that the command line can list the formats cheaply.
"""
