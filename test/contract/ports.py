"""Ports for the contract tests' servers.

Two pytest sessions run side by side (scripts/contract/run.sh), and a port the kernel hands out for
`bind(('127.0.0.1', 0))` is free only until someone else asks: two asks in a row, in one session
or in two, can get the same port. So run.sh gives each session a range of its own below the
kernel's ephemeral range (CONTRACT_PORT_RANGE, e.g. `20000-25999`, where no outgoing connection
takes a port either) and a file that remembers the last port handed out (CONTRACT_PORT_STATE);
ports are handed out in turn, skipping any that something holds. Without the range (a single
session, or the API server recipe run by hand) the kernel picks.

`python3 ports.py` prints one port, for the shell scripts.
"""
import fcntl
import os
import socket


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(('127.0.0.1', port))
        except OSError:
            return False
        return True


def free_port():
    span = os.environ.get('CONTRACT_PORT_RANGE')
    if not span:
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            return s.getsockname()[1]
    low, high = (int(p) for p in span.split('-'))
    with open(os.environ['CONTRACT_PORT_STATE'], 'a+') as state:
        fcntl.flock(state, fcntl.LOCK_EX)
        state.seek(0)
        last = int(state.read() or low - 1)
        for step in range(1, high - low + 2):
            port = low + (last - low + step) % (high - low + 1)
            if _bindable(port):
                state.seek(0)
                state.truncate()
                state.write(str(port))
                return port
    raise RuntimeError(f'no free port left in CONTRACT_PORT_RANGE {span}')


if __name__ == '__main__':
    print(free_port())
