"""``deepctl status``: the cluster, its GPUs and its platform at a glance.

- :mod:`~deepctl.status.collect` reads the API (the only I/O, the only user of ``kubernetes``);
- :mod:`~deepctl.status.assess` and :mod:`~deepctl.status.nodes` judge it (pure);
- :mod:`~deepctl.status.platform` says where each addon lives (data);
- :mod:`~deepctl.status.report` ties them together: :func:`status_report`.
"""
