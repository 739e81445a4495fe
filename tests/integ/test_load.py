#!/usr/bin/python3
"""tests/integ/test_load.py: 100k events (x SLUICE_TEST_SCALE) in many
batches from 8 concurrent clients into four streams, some batches out of
order (timestamps going back across batches, shuffled within), then read back
exactly: the full multiset, in (timestamp, arrival) order, forward and
backward in pages, in time windows; again after a SIGTERM restart; again after
POST /api/v1/admin/compact, with tokens taken before the restart and before
the compaction continuing correctly after them.

Order check for equal timestamps: within a batch the client's order is kept
(stable sort); across batches, if batch A was answered before batch B was
sent, A's events come first. Concurrent batches may go either way.
"""

import collections
import os
import queue
import random
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import (SCALE, TIME_FACTOR, SluiceServer, events_path, group_path,  # noqa: E402
                            main, now_ms, read_events, scaled, stream_path, streams_path,
                            wait_for)

THREADS = 8
TOTAL = scaled(100000, 2000)
SEED = int(os.environ.get('SLUICE_TEST_SEED', '0') or 0) or random.randrange(1 << 30)

# (group, stream, pre-created?) : the last one only ever comes from ?create=true
STREAMS = [('/integ/load/app#1', 'i-0abc/app.log', True),
           ('/integ/load/app#1', '2026/11/26/[$LATEST]f00d', True),
           ('/integ/load/vpc', 'eni-0123456789abcdef0-all', True),
           ('/integ/load/auto', 'created/by/ingest', False)]

WORDS = ['GET', 'POST', '/index.html', 'ACCEPT', 'REJECT', 'user=alice', 'latency_ms=12',
         'état', 'naïve', '日志', 'ошибка', '🚀', 'timeout', 'retry', 'db.query', 'ok']


def make_batches(rnd, total):
    """Returns a list of batches: dict(sid, events=[{timestamp, message}], id)."""
    base = now_ms() - 45 * 60 * 1000
    cursor = [base] * len(STREAMS)
    batches = []
    n = 0
    bid = 0
    while n < total:
        # every stream gets a batch, however small the scale
        sid = bid if bid < len(STREAMS) else rnd.randrange(len(STREAMS))
        size = min(total - n, rnd.choice([1, 2, 5, 50, 200, 400, 700, 1000, 1500]))
        kind = rnd.random()
        evs = []
        if kind < 0.25 and cursor[sid] > base + 60000:
            # late batch: timestamps behind what was sent before, shuffled
            lo = rnd.randrange(base, cursor[sid])
            ts = [rnd.randrange(lo, min(lo + 120000, cursor[sid]) + 1) for _ in range(size)]
        elif kind < 0.35:
            # a burst on one millisecond (many equal timestamps)
            ts = [cursor[sid]] * size
        else:
            # in order, many ties: 0..3 ms steps
            ts = []
            t = cursor[sid]
            for _ in range(size):
                t += rnd.choice([0, 0, 1, 3])
                ts.append(t)
            cursor[sid] = t + rnd.randrange(0, 2000)
        if rnd.random() < 0.5:
            rnd.shuffle(ts)
        for i, t in enumerate(ts):
            words = ' '.join(rnd.choice(WORDS) for _ in range(rnd.randrange(1, 30)))
            evs.append({'timestamp': t, 'message': 'L%06d.%04d %s' % (bid, i, words)})
        batches.append({'id': bid, 'sid': sid, 'events': evs})
        n += size
        bid += 1
    return batches


def parse_id(msg):
    head = msg.split(' ', 1)[0]
    b, i = head[1:].split('.')
    return int(b), int(i)


class TestLoad(unittest.TestCase):

    def setUp(self):
        # Background compaction off, so that the explicit one has work to do.
        self.srv = SluiceServer(['--compact-interval', '0'])
        self.srv.start()
        self.c = self.srv.client()
        self.rnd = random.Random(SEED)
        sys.stderr.write('\n[test_load] seed %d (SLUICE_TEST_SEED to replay), %d events\n'
                         % (SEED, TOTAL))

    def tearDown(self):
        self.srv.cleanup()

    # ------------------------------------------------------------------ ingest
    def ingest(self, batches):
        work = queue.Queue()
        for b in batches:
            work.put(b)
        errors = []
        done = threading.Event()

        def worker():
            c = self.srv.client()
            try:
                while not errors:
                    try:
                        b = work.get_nowait()
                    except queue.Empty:
                        return
                    g, s, pre = STREAMS[b['sid']]
                    params = {} if pre else {'create': 'true'}
                    b['send_mono'] = time.monotonic()
                    b['send_wall'] = now_ms()
                    r = c.post_json(events_path(g, s), b['events'], **params)
                    b['resp_wall'] = now_ms()
                    b['resp_mono'] = time.monotonic()
                    if r.status != 200 or r.json != {'accepted': len(b['events']), 'rejected': []}:
                        errors.append('batch %d -> %r' % (b['id'], r))
            except Exception as e:      # noqa: BLE001 - reported below
                errors.append('worker: %r' % e)
            finally:
                c.close()

        def reader():
            # Reads while writes go on: pages stay sorted and hold only sent events.
            c = self.srv.client()
            try:
                while not done.is_set() and not errors:
                    for g, s, _ in STREAMS[:3]:
                        r = c.get(events_path(g, s), limit=500,
                                  order=random.choice(['asc', 'desc']))
                        if r.status != 200:
                            errors.append('concurrent read -> %r' % r)
                            return
                        ts = [e['timestamp'] for e in r.json['events']]
                        if ts != sorted(ts) and ts != sorted(ts, reverse=True):
                            errors.append('concurrent read page not sorted')
                        for e in r.json['events']:
                            parse_id(e['message'])
                    time.sleep(0.05)
            except Exception as e:      # noqa: BLE001
                errors.append('reader: %r' % e)
            finally:
                c.close()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
        rt = threading.Thread(target=reader, daemon=True)
        t0 = time.monotonic()
        for t in threads:
            t.start()
        rt.start()
        for t in threads:
            t.join(300 * TIME_FACTOR)
        done.set()
        rt.join(60 * TIME_FACTOR)
        dt = time.monotonic() - t0
        self.assertFalse(any(t.is_alive() for t in threads), 'ingest threads hung')
        self.assertEqual(errors, [])
        n = sum(len(b['events']) for b in batches)
        sys.stderr.write('[test_load] ingested %d events in %d batches in %.2fs (%.0f ev/s)\n'
                         % (n, len(batches), dt, n / dt))

    # ------------------------------------------------------------------ checks
    def read_stream(self, g, s, **kw):
        return read_events(self.c, g, s, **kw)[0]

    def check_stream(self, sid, batches, got):
        """got: the asc read of one stream. Checks multiset, order, ties,
        ingestion times."""
        g, s, _ = STREAMS[sid]
        by_id = {b['id']: b for b in batches}
        expected = collections.Counter()
        for b in batches:
            if b['sid'] == sid:
                for e in b['events']:
                    expected[(e['timestamp'], e['message'])] += 1
        actual = collections.Counter((e['timestamp'], e['message']) for e in got)
        if actual != expected:
            missing = expected - actual
            extra = actual - expected
            self.fail('%s/%s: %d events read, %d expected; %d missing (e.g. %r), %d extra or '
                      'duplicated (e.g. %r)' % (g, s, len(got), sum(expected.values()),
                                                sum(missing.values()), list(missing)[:3],
                                                sum(extra.values()), list(extra)[:3]))
        prev = None
        run_max_send = None          # max send time of batches earlier in the tie run
        last_in_batch = {}           # batch id -> last index seen in this tie run
        for k, e in enumerate(got):
            bid, idx = parse_id(e['message'])
            b = by_id[bid]
            self.assertGreaterEqual(e['ingestionTime'], b['send_wall'] - 20, e)
            self.assertLessEqual(e['ingestionTime'], b['resp_wall'] + 20, e)
            ts = e['timestamp']
            if prev is not None and ts < prev:
                self.fail('%s/%s: not sorted at %d: %d after %d' % (g, s, k, ts, prev))
            if prev is None or ts != prev:
                run_max_send = None
                last_in_batch = {}
            if bid in last_in_batch and idx < last_in_batch[bid]:
                self.fail('%s/%s: equal timestamps %d of batch %d out of client order '
                          '(%d after %d)' % (g, s, ts, bid, idx, last_in_batch[bid]))
            last_in_batch[bid] = idx
            if run_max_send is not None and b['resp_mono'] < run_max_send:
                self.fail('%s/%s: timestamp %d: event of batch %d (answered before a batch '
                          'that precedes it was even sent) is out of arrival order'
                          % (g, s, ts, bid))
            run_max_send = max(run_max_send or 0, b['send_mono'])
            prev = ts

    def read_and_check_all(self, batches, label):
        """Reads every stream in several ways; returns {sid: events}."""
        out = {}
        rnd = random.Random(SEED + 1)
        for sid, (g, s, _) in enumerate(STREAMS):
            full = self.read_stream(g, s, limit=10000)
            self.check_stream(sid, batches, full)
            fwd = self.read_stream(g, s, limit=997)
            self.assertEqual(fwd, full, '%s: %s/%s asc pages of 997 differ' % (label, g, s))
            back = self.read_stream(g, s, limit=1000, order='desc')
            self.assertEqual(back, full[::-1], '%s: %s/%s desc pages differ' % (label, g, s))
            # time windows, start inclusive, end exclusive
            ts = [e['timestamp'] for e in full]
            # (at small scales a stream may get fewer than two events)
            for _ in range(3 if len(ts) >= 2 else 0):
                a, b = sorted(rnd.sample(ts, 2))
                want = [e for e in full if a <= e['timestamp'] < b]
                got = self.read_stream(g, s, start=a, end=b, limit=rnd.choice([333, 5000]))
                self.assertEqual(got, want, '%s: window [%d,%d)' % (label, a, b))
                got = self.read_stream(g, s, start=a, end=b, limit=777, order='desc')
                self.assertEqual(got, want[::-1], '%s: desc window [%d,%d)' % (label, a, b))
            st = self.c.get(stream_path(g, s)).json
            self.assertEqual(st['firstEventTime'], ts[0])
            self.assertEqual(st['lastEventTime'], ts[-1])
            out[sid] = full
        return out

    def take_tokens(self):
        """For each stream: (asc token after 1 page of 1500, desc token after 1 page of 1200)."""
        toks = {}
        for sid, (g, s, _) in enumerate(STREAMS):
            a = self.c.get(events_path(g, s), limit=1500).json.get('nextToken')
            d = self.c.get(events_path(g, s), limit=1200, order='desc').json.get('nextToken')
            toks[sid] = (a, d)
        return toks

    def check_tokens(self, toks, data, label):
        for sid, (g, s, _) in enumerate(STREAMS):
            a, d = toks[sid]
            full = data[sid]
            if a is not None:
                rest = self.read_stream(g, s, limit=1000, token=a)
                self.assertEqual(rest, full[1500:], '%s: asc token of %s/%s' % (label, g, s))
            else:
                self.assertLessEqual(len(full), 1500)
            if d is not None:
                rest = self.read_stream(g, s, limit=1000, order='desc', token=d)
                self.assertEqual(rest, full[::-1][1200:], '%s: desc token of %s/%s'
                                 % (label, g, s))

    def segment_counts(self):
        return [self.c.get(stream_path(g, s)).json['segmentCount'] for g, s, _ in STREAMS]

    # ------------------------------------------------------------------ test
    def test_load_restart_compact(self):
        c = self.c
        for g in sorted({g for g, _, pre in STREAMS if pre}):
            self.assertEqual(c.post_json('/api/v1/groups', {'name': g}).status, 201)
        for g, s, pre in STREAMS:
            if pre:
                self.assertEqual(c.post_json(streams_path(g), {'name': s}).status, 201)
        batches = make_batches(self.rnd, TOTAL)
        self.ingest(batches)

        t = time.monotonic()
        data = self.read_and_check_all(batches, 'after ingest')
        self.assertEqual(sum(len(v) for v in data.values()), TOTAL)
        sys.stderr.write('[test_load] read back and checked in %.2fs\n' % (time.monotonic() - t))

        # restart: identical reads, tokens taken before still work
        toks = self.take_tokens()
        self.srv.restart()
        again = self.read_and_check_all(batches, 'after restart')
        for sid in data:
            self.assertEqual(again[sid], data[sid], 'stream %d changed across restart' % sid)
        self.check_tokens(toks, data, 'token across restart')

        # compaction: fewer segments, identical reads, old tokens still work
        toks = self.take_tokens()
        before = self.segment_counts()
        r = c.request('POST', '/api/v1/admin/compact', b'', 'application/json')
        self.assertEqual(r.status, 200, r)
        body = r.json
        self.assertLessEqual(body['segmentsAfter'], body['segmentsBefore'], body)
        after = self.segment_counts()
        sys.stderr.write('[test_load] segments before %r after %r; compact answered %r\n'
                         % (before, after, body))
        for sid, (g, s, _) in enumerate(STREAMS):
            raw = sum(len(e['message'].encode()) + 26 for e in data[sid])
            hours = len({e['timestamp'] // 3600000 for e in data[sid]})
            bound = -(-raw // (512 * 1024)) + hours + 1
            self.assertLessEqual(after[sid], bound, '%s/%s: %d segments after compaction for '
                                 '%d raw bytes' % (g, s, after[sid], raw))
            self.assertLessEqual(after[sid], before[sid])
            if before[sid] > bound:
                self.assertLess(after[sid], before[sid])
        if len(batches) >= 100:
            self.assertGreater(sum(before), len(STREAMS) * 4,
                               'expected many small segments before compaction (about one per'
                               ' commit, background compaction is off)')
        if sum(before) > len(STREAMS) * 4:
            self.assertLess(sum(after), sum(before), 'compaction did not reduce segments')
        self.assertEqual(body['segmentsBefore'], sum(before), body)
        self.assertEqual(body['segmentsAfter'], sum(after), body)
        compacted = self.read_and_check_all(batches, 'after compaction')
        for sid in data:
            self.assertEqual(compacted[sid], data[sid], 'stream %d changed by compaction' % sid)
        self.check_tokens(toks, data, 'token across compaction')

        # storedBytes: exact sums
        for g in sorted({g for g, _, _ in STREAMS}):
            def sums_match(g=g):
                streams = c.get(streams_path(g), limit=50).json['streams']
                total = sum(x['storedBytes'] for x in streams)
                return total > 0 and total == c.get(group_path(g)).json['storedBytes']
            self.assertTrue(wait_for(sums_match), 'group %s storedBytes != sum of streams' % g)

        # and once more after a restart of the compacted store
        self.srv.restart()
        final = self.read_and_check_all(batches, 'after compaction + restart')
        for sid in data:
            self.assertEqual(final[sid], data[sid])
        self.srv.stop(check=True)


if __name__ == '__main__':
    if SCALE <= 0:
        sys.exit('SLUICE_TEST_SCALE must be > 0')
    main()
