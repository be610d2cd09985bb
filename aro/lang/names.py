"""Names that mean something by their spelling alone.

A variable or object whose name ends in ``-repository`` is a repository: there is no
declaration, so the compiler (observer activities), the VM (expressions that read one), the
actions (Store, Retrieve, Delete, Configure) and the runtime (seed files, handler
classification) all recognise it by this one suffix.
"""

REPOSITORY_SUFFIX = "-repository"


def is_repository(name: str) -> bool:
    """Whether ``name`` names a repository (``user-repository``)."""
    return name.endswith(REPOSITORY_SUFFIX)
