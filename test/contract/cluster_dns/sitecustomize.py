"""Cluster DNS and kube-proxy for a client process the contract tests start (on its PYTHONPATH):
CONTRACT_CLUSTER_DNS='<name>:<service port>=<local port>,...' makes <name>:<service port> reach
127.0.0.1:<local port>, so the Host header a server sees is the in-cluster one (as in
mlflow_checks.py, which does the same inside the test process)."""
import os
import socket

_routes = {}
for entry in filter(None, os.environ.get('CONTRACT_CLUSTER_DNS', '').split(',')):
    target, local = entry.split('=')
    name, port = target.rsplit(':', 1)
    _routes[(name, int(port))] = int(local)

_real_getaddrinfo = socket.getaddrinfo


def _cluster_getaddrinfo(host, port=None, *args, **kwargs):
    try:
        local = _routes.get((host, int(port))) if port is not None else None
    except (TypeError, ValueError):
        local = None
    if local is not None:
        return _real_getaddrinfo('127.0.0.1', local, *args, **kwargs)
    return _real_getaddrinfo(host, port, *args, **kwargs)


socket.getaddrinfo = _cluster_getaddrinfo
