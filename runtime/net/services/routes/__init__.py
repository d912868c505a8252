"""The typed SCP dispatch, one job per module (re-exported by :mod:`..dispatch`).

* :mod:`.context` - what a handler is told (:class:`~.context.RequestContext`), statuses and
  the helpers every route shares (status codes, Error Comment, decoding).
* :mod:`.composite` - C-ECHO, C-STORE and C-FIND routes (PS3.7 §9.1).
* :mod:`.retrieve` - C-MOVE and C-GET routes and their C-STORE sub-operations (PS3.4 C.4.2-3).
* :mod:`.normalized` - N-CREATE, N-SET, N-ACTION and N-GET routes (PS3.7 §10.1).
* :mod:`.registry` - which SOP classes an implementation serves, and the handler map.
"""
