"""gunicorn settings for `make serve` (python -m webapp.system.serve passes bind and workers)."""

from prometheus_client import multiprocess

# Herald's pages are database-bound; a worker stuck longer than this is restarted.
timeout = 60
graceful_timeout = 30
# No --preload: each worker imports the app after the fork, so nothing (database pools,
# threads) is shared between workers.
preload_app = False
# gunicorn 27's control socket has one default path per user, which two Herald instances (or a
# test run beside `make serve`) would fight over; Herald does not use it.
control_socket_disable = True


def child_exit(_server, worker) -> None:
    """prometheus_client's multiprocess mode asks for this: a dead worker's live gauges must
    stop counting (its counters and histograms stay in the totals)."""
    multiprocess.mark_process_dead(worker.pid)
