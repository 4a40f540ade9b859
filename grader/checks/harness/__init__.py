"""What the checks share, and nothing that registers a check.

``base``     the registry (``@check``), the verdicts (``Failed``, ``Partial``), ``Context``
             with its property-test loop ``for_all`` and the ``built`` cache, and the small
             judgements every part uses (inputs unchanged, a ValueError raised).
``metric``   ``compare`` and every tolerance and comparison scale, each with why.
``examples`` every part's examples and their hypothesis strategies.
``session``  talking to the worker about layer classes and networks; torch twins of specs.
``network``  a whole network against its torch reference, and the first layer that departs.

A module of checks (``grader/checks/<part>.py``) imports from here and from
``grader.references``, never from another module of checks.
"""
