"""Exceptions shared by the phases."""


class PipelineError(Exception):
    """Base class for errors that end a run with a message on stderr."""

    exit_code = 1


class InputError(PipelineError):
    """An input file is missing, unreadable or malformed."""

    exit_code = 2


class GraphError(PipelineError):
    """The phase graph is inconsistent (unknown dependency, cycle)."""

    exit_code = 70


class StateError(PipelineError):
    """The ``--state`` directory holds state this pipeline cannot use (another program's, another
    source's, another schema version, or a damaged file)."""

    exit_code = 3
