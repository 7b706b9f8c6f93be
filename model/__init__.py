"""Kodama model layer: weights, prompts, generation and post-processing (no pygls)."""
