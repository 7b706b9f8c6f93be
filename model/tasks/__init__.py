"""The understanding tasks (explain, docstring, tests): one layer shared by the LSP features and
the CLI.

Each task is a pair of pure functions: one builds the chat messages from the code (templates
in ``prompts.toml``), the other turns the model's answer into a checked result (Markdown, a
text edit that still parses, a test file edit). ``generate.run_chat`` is the plain synchronous
driver used by the CLI and the benchmarks; the server drives the same engine in slices so that
completions keep priority.
"""
