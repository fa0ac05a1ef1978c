"""One module per subcommand of `python -m grader`.

Each module defines NAME, HELP, `add_arguments(parser)` and `run(args) -> int`;
the command line discovers them here, so adding a subcommand touches no other
file.
"""
