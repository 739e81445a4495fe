#!/usr/bin/python3
"""tests/integ/test_crash.py: crash safety. Four clients ingest small batches
with unique message ids while the test kill -9s the server; the server comes
back on the same data directory and every event whose POST was answered 200
must be there exactly once. Events whose request got no answer may or may not
be there (never twice); events of a request answered 4xx/5xx must not be there
(DESIGN.md's durability contract); nothing else may appear. Three kills
(scaled by SLUICE_TEST_SCALE, at least one), then a clean SIGTERM stop.
"""

import collections
import os
import random
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import (TIME_FACTOR, SluiceServer, events_path, main, now_ms,  # noqa: E402
                            read_events, scaled, stream_path)

THREADS = 4
ROUNDS = scaled(3, 1)
GROUP = '/integ/crash/app#1'
STREAMS = ['node-a/stdout', 'node-b/stdout']
SEED = int(os.environ.get('SLUICE_TEST_SEED', '0') or 0) or random.randrange(1 << 30)


class Ledger:
    """What the clients sent and what they were told."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}      # id -> (stream, timestamp)
        self.unknown = {}    # no answer (connection died): may be present, at most once
        self.refused = {}    # answered 4xx/5xx: must be absent
        self.refusals = collections.Counter()
        self.errors = []

    def record(self, kind, stream, events, why=None):
        with self.lock:
            d = getattr(self, kind)
            for e in events:
                d[e['message'].split(' ', 1)[0]] = (stream, e['timestamp'])
            if why is not None:
                self.refusals[why] += 1


class TestCrash(unittest.TestCase):

    def setUp(self):
        self.srv = SluiceServer()
        self.srv.start()
        self.rnd = random.Random(SEED)
        sys.stderr.write('\n[test_crash] seed %d (SLUICE_TEST_SEED to replay), %d rounds\n'
                         % (SEED, ROUNDS))

    def tearDown(self):
        self.srv.cleanup()

    def run_clients(self, ledger, rnd_seed, rnd_round, threads=THREADS,
                    sizes=(1, 1, 2, 5, 10, 20)):
        stop = threading.Event()
        counts = collections.Counter()

        def worker(tid):
            rnd = random.Random(rnd_seed * 100 + tid)
            c = self.srv.client()
            n = 0
            try:
                while not stop.is_set():
                    stream = rnd.choice(STREAMS)
                    size = rnd.choice(sizes)
                    t = now_ms()
                    evs = [{'timestamp': t - rnd.randrange(0, 60000),
                            'message': 'r%d-t%d-n%d-i%d %s' % (rnd_round, tid, n, i,
                                                               'x' * rnd.randrange(0, 200))}
                           for i in range(size)]
                    n += 1
                    try:
                        r = c.post_json(events_path(GROUP, stream), evs, retry=False,
                                        create='true')
                    except Exception:        # noqa: BLE001 - connection died: no answer
                        ledger.record('unknown', stream, evs)
                        if not stop.is_set():
                            # the server went away before we were told to stop
                            time.sleep(0.01)
                        return
                    if r.status == 200:
                        if r.json != {'accepted': size, 'rejected': []}:
                            ledger.errors.append('unexpected answer %r' % r)
                        ledger.record('acked', stream, evs)
                        counts['acked'] += 1
                    else:
                        ledger.record('refused', stream, evs, r.status)
                        if r.status not in (429, 503):
                            ledger.errors.append('unexpected status %r' % r)
                        time.sleep(0.01)
            finally:
                c.close()

        def compactor():
            # Compaction runs alongside ingest, so kills land in it too.
            c = self.srv.client()
            try:
                while not stop.is_set():
                    try:
                        r = c.request('POST', '/api/v1/admin/compact', b'', 'application/json',
                                      retry=False)
                    except Exception:        # noqa: BLE001 - killed mid-compaction
                        return
                    if r.status != 200 and r.status != 503:   # 503: shutting down
                        ledger.errors.append('compact -> %r' % r)
                    counts['compactions'] += 1
                    time.sleep(0.02)
            finally:
                c.close()

        workers = [threading.Thread(target=worker, args=(i,), daemon=True)
                   for i in range(threads)]
        workers.append(threading.Thread(target=compactor, daemon=True))
        for t in workers:
            t.start()
        return stop, workers, counts

    def verify(self, ledger, label):
        c = self.srv.client()
        seen = collections.Counter()
        where = {}
        for s in STREAMS:
            evs, _ = read_events(c, GROUP, s, limit=10000)
            ts = [e['timestamp'] for e in evs]
            self.assertEqual(ts, sorted(ts), '%s: %s not sorted' % (label, s))
            for e in evs:
                mid = e['message'].split(' ', 1)[0]
                seen[mid] += 1
                where[mid] = (s, e['timestamp'])
            st = c.get(stream_path(GROUP, s)).json
            if evs:
                self.assertEqual(st['lastEventTime'], max(ts), label)
                self.assertEqual(st['firstEventTime'], min(ts), label)
        dup = [m for m, k in seen.items() if k > 1]
        self.assertEqual(dup[:10], [], '%s: %d events stored more than once' % (label, len(dup)))
        lost = [m for m in ledger.acked if seen[m] == 0]
        self.assertEqual(lost[:10], [], '%s: %d of %d acknowledged events lost'
                         % (label, len(lost), len(ledger.acked)))
        wrong = [m for m in ledger.acked if where[m] != ledger.acked[m]]
        self.assertEqual(wrong[:10], [], '%s: events stored in the wrong place or time' % label)
        ghost = [m for m in seen if m not in ledger.acked and m not in ledger.unknown]
        refused_present = [m for m in ghost if m in ledger.refused]
        self.assertEqual(refused_present[:10], [],
                         '%s: events of requests answered %r are stored'
                         % (label, dict(ledger.refusals)))
        self.assertEqual(ghost[:10], [], '%s: events nobody sent' % label)
        unknown_kept = sum(1 for m in ledger.unknown if seen[m])
        sys.stderr.write('[test_crash] %s: %d acked events all present once; %d unanswered '
                         '(%d of them stored); %d refused (%r)\n'
                         % (label, len(ledger.acked), len(ledger.unknown), unknown_kept,
                            len(ledger.refused), dict(ledger.refusals)))
        c.close()

    def test_kill9_while_ingesting(self):
        ledger = Ledger()
        for rnd_round in range(ROUNDS):
            stop, threads, counts = self.run_clients(ledger, SEED + rnd_round, rnd_round)
            # let some requests be answered, then kill at a random moment
            deadline = time.monotonic() + 30 * TIME_FACTOR
            want = self.rnd.randrange(20, 300)
            while counts['acked'] < want and time.monotonic() < deadline:
                self.assertTrue(self.srv.alive(), 'server died on its own; stderr:\n'
                                + self.srv.stderr_tail())
                time.sleep(0.005)
            self.assertGreater(counts['acked'], 0, 'no request answered')
            time.sleep(self.rnd.random() * 0.3)
            self.assertTrue(self.srv.alive(), 'server died on its own; stderr:\n'
                            + self.srv.stderr_tail())
            self.srv.kill9()
            stop.set()
            for t in threads:
                t.join(30 * TIME_FACTOR)
            self.assertFalse(any(t.is_alive() for t in threads), 'clients hung after kill -9')
            self.assertEqual(ledger.errors[:5], [])
            self.srv.start()
            self.verify(ledger, 'after kill %d' % (rnd_round + 1))
        # a last round of ingest then a clean stop and one more check
        stop, threads, counts = self.run_clients(ledger, SEED + 1000, ROUNDS)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(30 * TIME_FACTOR)
        self.assertEqual(ledger.errors[:5], [])
        unanswered = [m for m in ledger.unknown if m.startswith('r%d-' % ROUNDS)]
        self.assertEqual(unanswered[:5], [], 'requests went unanswered while the server was up')
        self.srv.restart()
        self.verify(ledger, 'after clean restart')
        self.srv.stop(check=True)

    def test_sigterm_while_ingesting(self):
        """SIGTERM under load: requests in flight are finished (answered) or
        refused, the exit code is 0, and every acknowledged event is there."""
        ledger = Ledger()
        for rnd_round in range(scaled(5, 1)):
            # many 1-event requests from 8 clients: many suspended at once
            stop, threads, counts = self.run_clients(ledger, SEED + 50 + rnd_round, rnd_round,
                                                     threads=8, sizes=(1,))
            deadline = time.monotonic() + 30 * TIME_FACTOR
            want = self.rnd.randrange(20, 300)
            while counts['acked'] < want and time.monotonic() < deadline:
                time.sleep(0.005)
            self.assertGreater(counts['acked'], 0, 'no request answered')
            rc = self.srv.stop(check=True)          # SIGTERM while the clients keep going
            self.assertEqual(rc, 0)
            stop.set()
            for t in threads:
                t.join(30 * TIME_FACTOR)
            self.assertFalse(any(t.is_alive() for t in threads), 'clients hung after SIGTERM')
            self.assertEqual(ledger.errors[:5], [])
            self.srv.start()
            self.verify(ledger, 'after SIGTERM %d' % (rnd_round + 1))
        self.srv.stop(check=True)


if __name__ == '__main__':
    main()
