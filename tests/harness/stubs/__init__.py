"""Stand-in command-line tools installed into each test host's ``bin/`` directories.

These modules run *on the test host* (in the host's namespaces, under the system
``python3``), started by tiny launcher scripts that the harness writes into
``HOSTDIR/bin`` and ``HOSTDIR/kube-bin``. They must only use the standard library.
"""
