"""The command line: the Typer app, error rendering, help metavars, tables, one module per
command."""
