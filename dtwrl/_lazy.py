"""Packages whose public names are imported on first use (PEP 562 module ``__getattr__``)."""

from importlib import import_module


def lazy_exports(package: str, exports: dict, namespace: dict) -> None:
    """Install ``__getattr__``, ``__dir__`` and ``__all__`` in a package that imports its names on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict
        Public name -> the module (relative to ``package``) that defines it.
    namespace : dict
        The package's ``globals()``: it receives the three names, and each
        public name once it is imported. ``__all__`` is ``sorted(exports)``.

    Examples
    --------
    >>> namespace = {}
    >>> lazy_exports("dtwrl", {"dtw": ".exact_dtw"}, namespace)
    >>> namespace["__all__"], namespace["__getattr__"]("dtw").__name__, "dtw" in namespace
    (['dtw'], 'dtw', True)
    >>> namespace["__getattr__"]("nope")
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

    namespace.update(__getattr__=__getattr__, __dir__=__dir__, __all__=sorted(exports))
