#!/usr/bin/env python3
"""tests/integ/test_durability.py: the durability contract seen from the
system calls. Under strace, every group commit of an acknowledged ingest
must be followed by an fdatasync/fsync before the answer (--sync full), and
--sync normal must issue visibly fewer (so the check can fail)."""

import os
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import (SLOW, SluiceServer, Watchdog, events_path, now_ms,
                            streams_path)


# LeakSanitizer cannot run under ptrace; leaks are checked by the other
# integration tests (ASan build) and by the valgrind stage.
os.environ['ASAN_OPTIONS'] = (os.environ.get('ASAN_OPTIONS', '') +
                              ':detect_leaks=0').lstrip(':')


class StraceServer(SluiceServer):
    def __init__(self, trace_path, **kw):
        super().__init__(**kw)
        self.trace_path = trace_path

    def stop(self, timeout=None, check=True, sig=None):
        # strace does not pass signals on: signal the traced server itself.
        import signal
        import subprocess
        kids = subprocess.run(['pgrep', '-P', str(self.proc.pid)],
                              capture_output=True, text=True).stdout.split()
        for k in kids:
            os.kill(int(k), signal.SIGTERM)
        return super().stop(timeout=timeout, check=check, sig=signal.SIGTERM)

    def command(self, port):
        return ['strace', '-f', '-qq', '-e', 'trace=fdatasync,fsync',
                '-o', self.trace_path] + super().command(port)


def syncs_for_sequential_posts(sync_mode, n):
    """Returns (commits, sync calls) seen while posting n 1-event batches
    one after another (each its own commit)."""
    import tempfile
    trace = tempfile.mktemp(prefix='sluice-strace-')
    srv = StraceServer(trace, extra_args=['--sync', sync_mode,
                                          '--compact-interval', '0'])
    try:
        srv.start(timeout=30)
        c = srv.client()
        assert c.post_json('/api/v1/groups', {'name': 'dur'}).status == 201
        assert c.post_json(streams_path('dur'), {'name': 's'}).status == 201
        before = c.get('/api/v1/admin/stats').json['writer']['commits']
        # Count only the syncs of the ingest phase: mark the trace offset.
        start_size = os.path.getsize(trace)
        for i in range(n):
            r = c.post_json(events_path('dur', 's'),
                            [{'timestamp': now_ms(), 'message': 'event %d' % i}])
            assert r.status == 200 and r.json['accepted'] == 1, r
        after = c.get('/api/v1/admin/stats').json['writer']['commits']
        with open(trace) as f:
            f.seek(start_size)
            text = f.read()
        syncs = len(re.findall(r'\b(fdatasync|fsync)\(', text))
        # every event came back
        evs = c.get(events_path('dur', 's')).json['events']
        assert len(evs) == n, len(evs)
        srv.stop()
        return after - before, syncs
    finally:
        srv.cleanup()
        if os.path.exists(trace):
            os.unlink(trace)


@unittest.skipIf(SLOW, 'strace on top of a wrapper (valgrind) is too slow')
@unittest.skipIf(shutil.which('strace') is None, 'strace is not installed')
class TestDurability(unittest.TestCase):
    def test_each_group_commit_syncs(self):
        if True:
            n = 30
            commits, syncs = syncs_for_sequential_posts('full', n)
            self.assertGreaterEqual(commits, n)
            self.assertGreaterEqual(syncs, commits,
                                    'fewer fdatasync calls (%d) than commits (%d)'
                                    % (syncs, commits))
            commits_n, syncs_n = syncs_for_sequential_posts('normal', n)
            self.assertGreaterEqual(commits_n, n)
            self.assertLess(syncs_n, commits_n,
                            '--sync normal should not sync every commit')


if __name__ == '__main__':
    Watchdog(300).start()
    unittest.main(verbosity=2)
