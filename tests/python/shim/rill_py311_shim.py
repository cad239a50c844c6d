"""Compatibility shim that lets the riak 2.7.0 Python client run on Python 3.11.

The client (and the python3-protobuf 2.5 runtime it depends on) was written
for Python 2.7 / 3.3-3.5. Two things it relies on were removed later:

* the ABC aliases in ``collections`` (``collections.Mapping``, ``Iterable``,
  ``Set``, ...), removed in Python 3.10 in favour of ``collections.abc``;
* the ``verbose`` keyword of ``collections.namedtuple``, removed in 3.7
  (``riak.codecs`` passes ``verbose=False``).

This module is imported at interpreter start by a ``.pth`` file that
``.ci/setup-python.sh`` places in the virtualenv's site-packages, so the
patches are in place before ``riak`` is imported. ``apply()`` is idempotent.
"""

import collections
import collections.abc
import functools

# Every public ABC that used to be importable from ``collections`` directly.
_ABC_NAMES = (
    "Awaitable",
    "Coroutine",
    "AsyncIterable",
    "AsyncIterator",
    "AsyncGenerator",
    "Hashable",
    "Iterable",
    "Iterator",
    "Generator",
    "Reversible",
    "Sized",
    "Container",
    "Callable",
    "Collection",
    "Set",
    "MutableSet",
    "Mapping",
    "MutableMapping",
    "MappingView",
    "KeysView",
    "ItemsView",
    "ValuesView",
    "Sequence",
    "MutableSequence",
    "ByteString",
)


def _restore_abc_aliases():
    for name in _ABC_NAMES:
        if not hasattr(collections, name) and hasattr(collections.abc, name):
            setattr(collections, name, getattr(collections.abc, name))


def _patch_namedtuple():
    original = collections.namedtuple
    if getattr(original, "_rill_accepts_verbose", False):
        return

    @functools.wraps(original)
    def namedtuple(typename, field_names, *args, **kwargs):
        # ``verbose`` only printed the generated class source; drop it.
        kwargs.pop("verbose", None)
        cls = original(typename, field_names, *args, **kwargs)
        # namedtuple() sets __module__ from the caller's frame; with this
        # wrapper in between that frame would be ours, so set it to the
        # real caller unless the caller passed ``module`` explicitly.
        if "module" not in kwargs:
            try:
                import sys

                cls.__module__ = sys._getframe(1).f_globals.get(
                    "__name__", "__main__"
                )
            except (AttributeError, ValueError):
                pass
        return cls

    namedtuple._rill_accepts_verbose = True
    collections.namedtuple = namedtuple


def apply():
    _restore_abc_aliases()
    _patch_namedtuple()


apply()
