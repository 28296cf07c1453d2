"""Packages whose public names are imported on first use (PEP 562 module ``__getattr__``)."""

from importlib import import_module


def lazy_exports(package: str, exports: dict, namespace: dict):
    """``(__getattr__, __dir__)`` for ``package``, importing each name of ``exports`` on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict
        Public name -> the module (relative to ``package``) that defines it.
    namespace : dict
        The package's ``globals()``; a name, once imported, is stored there.

    Examples
    --------
    >>> namespace = {}
    >>> getattr_, dir_ = lazy_exports("dtwrl", {"dtw": ".exact_dtw"}, namespace)
    >>> getattr_("dtw").__name__, "dtw" in namespace, dir_()
    ('dtw', True, ['dtw'])
    >>> getattr_("nope")
    Traceback (most recent call last):
    ...
    AttributeError: module 'dtwrl' has no attribute 'nope'
    """

    def __getattr__(name):
        if name in exports:
            value = getattr(import_module(exports[name], package), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
