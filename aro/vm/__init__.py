"""The virtual machine: runs the code objects the compiler (``aro.lang``) produces.

``frame``        a running feature set's variables (slots, scopes, parent frames)
``machine``      the instruction loop (``advance``, ``execute``), loops, ``match``, statement errors
``plan``         statements linked for execution (action, clause closures, binding rule)
``expressions``  expression trees linked into closures ``fn(frame)``
``registry``     the action table (``@action``) that ``aro.actions`` fills
``errors``       the error model: ``ActionError``, ``EvaluationError``, ``StatementError``…
``services``     the interfaces actions reach the application through (``frame.services``)
``values``       ARO values and the pure functions over them

Nothing is re-exported here: import the module you need (``from aro.vm import values``), so
that importing one of them does not load the others.
"""
