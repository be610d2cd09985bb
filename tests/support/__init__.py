"""Helpers shared by the tests (and bench), one per way of running ARO:

- ``inproc``: compile source text and run it in this process (a whole program, or one
  feature set's statements on the VM);
- ``live``: run ``aro run APP`` as a real process and watch its output;
- ``serving``: a live app's HTTP side (requests, raw bytes);
- ``codec``: the two builds of aro._speedups and the frames their tests feed them.
"""
