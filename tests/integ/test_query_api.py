#!/usr/bin/python3
"""tests/integ/test_query_api.py: Logs Insights over the native REST API
(/api/v1/queries, /api/v1/query, /api/v1/queries/explain,
/api/v1/groups/{g}/fields, /api/v1/records/{ptr}) against a real
`sluice serve`. The data is generated here from a printed seed (VPC flow
logs, JSON lines, text lines), ingested through the native API, and every
answer is compared with one computed independently from the generated
records, with the semantics of reference sections 4.3-4.6.

Run: /usr/bin/python3 tests/integ/test_query_api.py [-k pattern]
Replay the data of a failed run with SLUICE_TEST_SEED=<seed>.
"""

import datetime
import itertools
import json
import math
import os
import random
import re
import sys
import threading
import time
import unittest
import urllib.parse

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import (MS_HOUR, TIME_FACTOR, WRAPPER, ServerTestCase,  # noqa: E402
                            SluiceServer, events_path, group_path, main, now_ms, q,
                            raw_http, scaled)

SEED = int(os.environ.get('SLUICE_TEST_SEED') or random.randrange(1 << 30))
print('test_query_api: SLUICE_TEST_SEED=%d' % SEED, file=sys.stderr)

_RUN = '%x' % random.Random(SEED).randrange(1 << 32)
_counter = itertools.count()
UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
ACCOUNT = '000000000000'
TERMINAL = ('Complete', 'Failed', 'Cancelled', 'Timeout')


def uniq(tag):
    return '/integ/q/%s/%s-%d' % (_RUN, tag, next(_counter))


def fmt_ts(ms):
    """@timestamp as GetQueryResults prints it: YYYY-MM-DD HH:MM:SS.mmm UTC."""
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime('%Y-%m-%d %H:%M:%S') + '.%03d' % (ms % 1000)


def iso(ms):
    d = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return d.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (ms % 1000)


def pct_nearest_rank(values, p):
    """The smallest value with at least p% of the values at or below it."""
    v = sorted(values)
    rank = math.ceil(p / 100.0 * len(v))
    return v[max(rank, 1) - 1]


def share(count, total):
    """GetLogGroupFields' integer percent: rounded, at least 1 when present."""
    p = (count * 100 + total // 2) // total
    return max(p, 1) if count else 0


# ---------------------------------------------------------------- data

class Data:
    """Every generated event, with the fields discovery should find."""

    def __init__(self, seed):
        rng = random.Random(seed)
        # Whole hours back, plus odd milliseconds: bins and formats show it.
        self.base = (now_ms() - 5 * MS_HOUR) // MS_HOUR * MS_HOUR + 123
        self.flow = self._flow(rng)
        self.json = self._json(rng)
        self.text = self._text(rng)

    def _flow(self, rng):
        enis = ['eni-0a1b2c3d4e5f%05d' % i for i in (1, 2, 3)]
        src = ['10.0.%d.%d' % (rng.randrange(0, 4), rng.randrange(1, 250)) for _ in range(24)]
        dst = ['172.31.%d.%d' % (rng.randrange(0, 8), rng.randrange(1, 250)) for _ in range(12)]
        out = []
        for i in range(scaled(3000, 400)):
            ts = self.base + i * 1500 + rng.randrange(0, 1000)   # distinct, increasing
            eni = rng.choice(enis)
            start = ts // 1000
            f = {'version': 2, 'accountId': '123456789012', 'interfaceId': eni,
                 'startTime': start, 'endTime': start + 60}
            if rng.random() < 0.04:
                f['logStatus'] = 'NODATA'
                msg = '2 123456789012 %s - - - - - - - %d %d - NODATA' % (eni, start, start + 60)
            else:
                f.update(srcAddr=rng.choice(src), dstAddr=rng.choice(dst),
                         srcPort=rng.randrange(1024, 65536),
                         dstPort=rng.choice([22, 53, 80, 443, 3306, 8080]),
                         protocol=rng.choice([6, 6, 6, 17, 1]),
                         packets=rng.randrange(1, 200), bytes=rng.randrange(40, 150000),
                         action='REJECT' if rng.random() < 0.3 else 'ACCEPT',
                         logStatus='OK')
                msg = '2 123456789012 %s %s %s %d %d %d %d %d %d %d %s OK' % (
                    eni, f['srcAddr'], f['dstAddr'], f['srcPort'], f['dstPort'],
                    f['protocol'], f['packets'], f['bytes'], start, start + 60, f['action'])
            out.append({'ts': ts, 'stream': eni + '-all', 'msg': msg, 'f': f})
        return out

    def _json(self, rng):
        out = []
        for i in range(scaled(1500, 200)):
            ts = self.base + 700 + i * 2900 + rng.randrange(0, 2000)
            o = {'level': rng.choice(['info'] * 6 + ['warn'] * 3 + ['error']),
                 'path': rng.choice(['/api/users', '/api/orders', '/api/items', '/health']),
                 'status': rng.choice([200, 200, 200, 201, 404, 500, 503]),
                 'user': {'id': 'u%d' % rng.randrange(1, 40),
                          'tier': rng.choice(['gold', 'silver', 'bronze'])},
                 'tags': [rng.choice(['a', 'b']), rng.choice(['x', 'y'])]}
            if rng.random() < 0.9:
                o['latencyMs'] = rng.randrange(1, 2500)
            out.append({'ts': ts, 'stream': rng.choice(['web-1', 'web-2']),
                        'msg': json.dumps(o, separators=(',', ':')), 'f': o})
        return out

    def _text(self, rng):
        out = []
        for i in range(scaled(600, 100)):
            ts = self.base + 300 + i * 7000 + rng.randrange(0, 5000)
            if rng.random() < 0.1:
                msg, f = 'heartbeat ok', {}
            else:
                f = {'level': rng.choice(['INFO', 'INFO', 'WARN', 'ERROR']),
                     'user': 'u%d' % rng.randrange(1, 15),
                     'action': rng.choice(['login', 'logout', 'view', 'buy']),
                     'took': rng.randrange(1, 500)}
                msg = '[%s] user=%s action=%s took %dms' % (f['level'], f['user'],
                                                             f['action'], f['took'])
            out.append({'ts': ts, 'stream': 'app', 'msg': msg, 'f': f})
        return out


def ingest(client, group, events, batch=100, rng=None):
    """Creates the group and posts events in time-ordered batches (each batch
    shuffled: the server sorts), so segments cover narrow time ranges."""
    r = client.post_json('/api/v1/groups', {'name': group})
    assert r.status == 201, r
    by_stream = {}
    for e in sorted(events, key=lambda e: e['ts']):
        by_stream.setdefault(e['stream'], []).append(e)
    rng = rng or random.Random(SEED)
    for stream, evs in sorted(by_stream.items()):
        for i in range(0, len(evs), batch):
            chunk = [{'timestamp': e['ts'], 'message': e['msg']} for e in evs[i:i + batch]]
            rng.shuffle(chunk)
            r = client.post_json(events_path(group, stream), {'events': chunk}, create='true')
            assert r.status == 200 and r.json['accepted'] == len(chunk), r


def qbody(query, groups=None, **kw):
    b = {'query': query}
    if groups is not None:
        b['groups'] = groups if isinstance(groups, list) else [groups]
    b.update({k: v for k, v in kw.items() if v is not None})
    return b


# ---------------------------------------------------------------- base class

class QueryCase(ServerTestCase):

    def assertError(self, r, status, name=None, contains=()):
        self.assertEqual(r.status, status, r)
        body = r.json
        self.assertIsInstance(body, dict, r)
        self.assertTrue(body.get('message'), r)
        if name is not None:
            self.assertEqual(body.get('error'), name, r)
        for text in ([contains] if isinstance(contains, str) else contains):
            self.assertIn(text, body['message'], r)
        return body

    def body(self, query, groups=None, **kw):
        return qbody(query, groups, **kw)

    def start(self, query, groups=None, **kw):
        r = self.c.post_json('/api/v1/queries', self.body(query, groups, **kw))
        self.assertEqual(r.status, 202, '%s: %r' % (query, r))
        qid = r.json['queryId']
        self.assertRegex(qid, UUID_RE)
        return qid

    def get(self, qid):
        r = self.c.get('/api/v1/queries/' + q(qid))
        self.assertEqual(r.status, 200, r)
        return r.json

    def poll(self, qid, until=TERMINAL, timeout=60):
        deadline = time.time() + timeout * TIME_FACTOR
        while True:
            b = self.get(qid)
            if b['status'] in until:
                return b
            if time.time() > deadline:
                self.fail('query %s still %s after %ss' % (qid, b['status'], timeout))
            time.sleep(0.02)

    def run_async(self, query, groups=None, **kw):
        b = self.poll(self.start(query, groups, **kw))
        self.assertEqual(b['status'], 'Complete', b)
        return b

    def sync(self, query, groups=None, **kw):
        r = self.c.post_json('/api/v1/query', self.body(query, groups, **kw))
        self.assertEqual(r.status, 200, '%s: %r' % (query, r))
        b = r.json
        self.assertEqual(b['status'], 'Complete', b)
        self.check_shape(b)
        return b

    def rows(self, query, groups=None, **kw):
        return self.sync(query, groups, **kw)['results']

    def one(self, query, groups=None, **kw):
        rows = self.rows(query, groups, **kw)
        self.assertEqual(len(rows), 1, '%s: %r' % (query, rows))
        return rows[0]

    def check_shape(self, b):
        self.assertRegex(b['queryId'], UUID_RE)
        self.assertIn(b['status'], ('Scheduled', 'Running') + TERMINAL)
        self.assertIsInstance(b['fields'], list)
        self.assertIsInstance(b['results'], list)
        for row in b['results']:
            self.assertIsInstance(row, dict)
            for k, v in row.items():
                self.assertIsInstance(v, (str, int, float), (k, v))
        st = b['statistics']
        for k in ('recordsMatched', 'recordsScanned', 'bytesScanned', 'recordsSkipped',
                  'bytesSkipped', 'logGroupsScanned', 'segmentsScanned', 'segmentsSkipped'):
            self.assertIsInstance(st[k], (int, float), k)


# ---------------------------------------------------------------- answers

class TestQueries(QueryCase):
    """Exact answers over generated VPC flow logs, JSON and text lines."""

    server_args = ['--compact-interval', '0']   # segments stay as ingested

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Data(SEED)
        cls.vpc = uniq('vpc')
        cls.app = uniq('app')
        cls.txt = uniq('text')
        try:
            ingest(cls.c, cls.vpc, cls.d.flow)
            ingest(cls.c, cls.app, cls.d.json)
            ingest(cls.c, cls.txt, cls.d.text)
        except BaseException:
            cls.tearDownClass()
            raise
        cls.all_ts = sorted(e['ts'] for e in cls.d.flow)
        cls.rng = dict(start=cls.all_ts[0], end=cls.all_ts[-1])

    def flows(self, ok_only=False):
        return [e['f'] for e in self.d.flow if not ok_only or e['f']['logStatus'] == 'OK']

    # -- aggregations

    def test_count_sum_avg_min_max(self):
        row = self.one('stats count(*) as n, count(bytes) as nb, sum(bytes) as s, '
                       'avg(bytes) as a, min(bytes) as lo, max(bytes) as hi', self.vpc)
        b = [f['bytes'] for f in self.flows(ok_only=True)]
        self.assertEqual(row['n'], len(self.d.flow))
        self.assertEqual(row['nb'], len(b))
        self.assertEqual(row['s'], sum(b))
        self.assertAlmostEqual(row['a'], sum(b) / len(b), places=6)
        self.assertEqual(row['lo'], min(b))
        self.assertEqual(row['hi'], max(b))
        self.assertIsInstance(row['n'], int)        # numbers as JSON numbers

    def test_statistics(self):
        b = self.sync('filter action = "REJECT" | stats count(*) as c', self.vpc)
        st = b['statistics']
        rejects = sum(1 for f in self.flows() if f.get('action') == 'REJECT')
        self.assertEqual(b['results'], [{'c': rejects}])
        self.assertEqual(st['recordsScanned'], len(self.d.flow))
        self.assertEqual(st['recordsMatched'], rejects)
        self.assertEqual(st['bytesScanned'], sum(len(e['msg'].encode()) for e in self.d.flow))
        self.assertEqual(st['logGroupsScanned'], 1)
        self.assertGreater(st['segmentsScanned'], 0)

    def test_pct_and_stddev(self):
        row = self.one('stats pct(bytes, 50) as p50, pct(bytes, 95) as p95, '
                       'pct(bytes, 99) as p99, pct(bytes, 100) as p100, '
                       'stddev(bytes) as sd', self.vpc)
        b = [f['bytes'] for f in self.flows(ok_only=True)]
        for p in (50, 95, 99, 100):
            self.assertEqual(row['p%d' % p], pct_nearest_rank(b, p), 'pct %d' % p)
        mean = sum(b) / len(b)
        sd = math.sqrt(sum((x - mean) ** 2 for x in b) / (len(b) - 1))
        self.assertAlmostEqual(row['sd'], sd, delta=sd * 1e-9)

    def test_count_distinct(self):
        row = self.one('stats count_distinct(srcAddr) as s, count_distinct(dstPort) as p',
                       self.vpc)
        ok = self.flows(ok_only=True)
        self.assertEqual(row['s'], len({f['srcAddr'] for f in ok}))
        self.assertEqual(row['p'], len({f['dstPort'] for f in ok}))

    def test_stats_by_two_keys(self):
        rows = self.rows('filter logStatus = "OK" | stats sum(bytes) as b, count(*) as c '
                         'by srcAddr, action', self.vpc)
        want = {}
        for f in self.flows(ok_only=True):
            k = (f['srcAddr'], f['action'])
            b, c = want.get(k, (0, 0))
            want[k] = (b + f['bytes'], c + 1)
        got = {(r['srcAddr'], r['action']): (r['b'], r['c']) for r in rows}
        self.assertEqual(got, want)
        self.assertEqual(len(rows), len(want))

    def test_bins(self):
        for period, ms in (('5m', 300000), ('1h', 3600000), ('30s', 30000)):
            rows = self.rows('stats count(*) as c by bin(%s) as t' % period, self.vpc)
            want = {}
            for e in self.d.flow:
                t = fmt_ts(e['ts'] // ms * ms)
                want[t] = want.get(t, 0) + 1
            self.assertEqual({r['t']: r['c'] for r in rows}, want, period)

    def test_bin_default_column_name_and_sum(self):
        rows = self.rows('stats sum(bytes) by bin(10m)', self.vpc)
        want = {}
        for e in self.d.flow:
            if 'bytes' in e['f']:
                t = fmt_ts(e['ts'] // 600000 * 600000)
                want[t] = want.get(t, 0) + e['f']['bytes']
        self.assertEqual({r['bin(10m)']: r['sum(bytes)'] for r in rows}, want)

    def test_sort_and_limit_top(self):
        rows = self.rows('filter logStatus = "OK" | stats sum(bytes) as b by srcAddr '
                         '| sort b desc | limit 5', self.vpc)
        sums = {}
        for f in self.flows(ok_only=True):
            sums[f['srcAddr']] = sums.get(f['srcAddr'], 0) + f['bytes']
        top = sorted(sums.items(), key=lambda kv: -kv[1])[:5]
        self.assertEqual([r['b'] for r in rows], [b for _, b in top])
        for r in rows:
            self.assertEqual(sums[r['srcAddr']], r['b'])
        rows = self.rows('filter logStatus = "OK" | stats sum(bytes) as b by srcAddr '
                         '| sort b asc | limit 3', self.vpc)
        self.assertEqual([r['b'] for r in rows], sorted(sums.values())[:3])

    def test_sort_events_by_field(self):
        rows = self.rows('filter logStatus = "OK" | fields bytes, @timestamp '
                         '| sort bytes desc, @timestamp asc | limit 20', self.vpc)
        want = sorted(((e['f']['bytes'], e['ts']) for e in self.d.flow if 'bytes' in e['f']),
                      key=lambda x: (-x[0], x[1]))[:20]
        self.assertEqual([(r['bytes'], r['@timestamp']) for r in rows],
                         [(b, fmt_ts(ts)) for b, ts in want])

    # -- events, order, formats

    def test_default_newest_first_and_timestamp_format(self):
        b = self.sync('fields @timestamp, @message | limit 25', self.vpc)
        newest = sorted(self.d.flow, key=lambda e: -e['ts'])[:25]
        rows = b['results']
        self.assertEqual([r['@timestamp'] for r in rows], [fmt_ts(e['ts']) for e in newest])
        self.assertEqual([r['@message'] for r in rows], [e['msg'] for e in newest])
        for r in rows:
            self.assertRegex(r['@timestamp'], r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$')
            self.assertEqual(list(r)[-1], '@ptr', r)      # @ptr last
            self.assertEqual(list(r)[:2], ['@timestamp', '@message'])
        self.assertEqual(b['fields'][:2], ['@timestamp', '@message'])

    def test_no_projection_gives_timestamp_and_message(self):
        rows = self.rows('filter action = "REJECT"', self.vpc, limit=10)
        want = sorted((e for e in self.d.flow if e['f'].get('action') == 'REJECT'),
                      key=lambda e: -e['ts'])[:10]
        self.assertEqual([(r['@timestamp'], r['@message']) for r in rows],
                         [(fmt_ts(e['ts']), e['msg']) for e in want])
        for r in rows:
            self.assertEqual(set(r), {'@timestamp', '@message', '@ptr'})

    def test_limits_api_and_query(self):
        self.assertEqual(len(self.rows('fields @message', self.vpc, limit=7)), 7)
        self.assertEqual(len(self.rows('fields @message | limit 30', self.vpc, limit=7)), 7)
        self.assertEqual(len(self.rows('fields @message | limit 4', self.vpc, limit=70)), 4)
        n = min(len(self.d.flow), 10000)
        self.assertEqual(len(self.rows('fields @message', self.vpc)), n)

    def test_field_selection(self):
        rows = self.rows('filter logStatus = "OK" | fields srcAddr, dstPort | limit 5',
                         self.vpc)
        newest = sorted((e for e in self.d.flow if e['f']['logStatus'] == 'OK'),
                        key=lambda e: -e['ts'])[:5]
        self.assertEqual([{k: v for k, v in r.items() if k != '@ptr'} for r in rows],
                         [{'srcAddr': e['f']['srcAddr'], 'dstPort': e['f']['dstPort']}
                          for e in newest])
        for r in rows:
            self.assertIn('@ptr', r)

    def test_missing_fields_are_omitted(self):
        rows = self.rows('fields srcAddr, logStatus | filter logStatus = "NODATA" | limit 3',
                         self.vpc)
        self.assertTrue(rows)
        for r in rows:
            self.assertNotIn('srcAddr', r)        # '-' is absent, not ""
            self.assertEqual(r['logStatus'], 'NODATA')

    # -- filters

    def count(self, query, group=None):
        row = self.one(query + ' | stats count(*) as c', group or self.vpc)
        return row['c']

    def test_filters(self):
        ok = self.flows(ok_only=True)
        cases = [
            ('filter action = "REJECT" and dstPort in [22, 3306]',
             sum(1 for f in ok if f['action'] == 'REJECT' and f['dstPort'] in (22, 3306))),
            ('filter @message like "REJECT"',
             sum(1 for e in self.d.flow if 'REJECT' in e['msg'])),
            ('filter @message like /ACCEPT OK$/',
             sum(1 for e in self.d.flow if e['msg'].endswith('ACCEPT OK'))),
            ('filter srcAddr like /^10\\.0\\.1\\./',
             sum(1 for f in ok if f['srcAddr'].startswith('10.0.1.'))),
            ('filter srcAddr =~ /^10\\.0\\.[23]\\./',
             sum(1 for f in ok if re.match(r'^10\.0\.[23]\.', f['srcAddr']))),
            ('filter @message like /(?i)reject/',
             sum(1 for e in self.d.flow if 'reject' in e['msg'].lower())),
            ('filter interfaceId not like "00002"',
             sum(1 for f in self.flows() if '00002' not in f['interfaceId'])),
            ('filter logStatus = "OK" and dstPort not in [80, 443]',
             sum(1 for f in ok if f['dstPort'] not in (80, 443))),
            ('filter bytes > 50000 and protocol = 6',
             sum(1 for f in ok if f['bytes'] > 50000 and f['protocol'] == 6)),
            ('filter bytes >= 1000 and bytes <= 2000 or action = "REJECT"',
             sum(1 for f in ok if 1000 <= f['bytes'] <= 2000 or f['action'] == 'REJECT')),
            # a missing field compares false, so `not` keeps NODATA rows
            ('filter not (action = "ACCEPT")',
             sum(1 for f in self.flows() if f.get('action') != 'ACCEPT')),
            ('filter action in ["REJECT", "NOPE"] | filter packets < 50',
             sum(1 for f in ok if f['action'] == 'REJECT' and f['packets'] < 50)),
        ]
        for query, want in cases:
            self.assertEqual(self.count(query), want, query)

    def test_stream_constraint(self):
        s = 'eni-0a1b2c3d4e5f00002-all'
        self.assertEqual(self.count('filter @logStream = "%s"' % s),
                         sum(1 for e in self.d.flow if e['stream'] == s))
        rows = self.rows('stats count(*) as c by @logStream', self.vpc)
        want = {}
        for e in self.d.flow:
            want[e['stream']] = want.get(e['stream'], 0) + 1
        self.assertEqual({r['@logStream']: r['c'] for r in rows}, want)

    # -- parse, dedup, JSON fields

    def test_parse_glob(self):
        rows = self.rows('parse @message "[*] user=* action=* took *ms" as level, user, '
                         'action, took | filter ispresent(level) '
                         '| stats count(*) as c, sum(took) as t by level', self.txt)
        want = {}
        for e in self.d.text:
            f = e['f']
            if f:
                c, t = want.get(f['level'], (0, 0))
                want[f['level']] = (c + 1, t + f['took'])
        self.assertEqual({r['level']: (r['c'], r['t']) for r in rows}, want)

    def test_parse_keeps_events_that_do_not_match(self):
        row = self.one('parse @message "[*] user=*" as lv, u | stats count(*) as c, '
                       'count(lv) as m', self.txt)
        self.assertEqual(row['c'], len(self.d.text))
        self.assertEqual(row['m'], sum(1 for e in self.d.text if e['f']))

    def test_parse_regex(self):
        rows = self.rows('parse @message /user=(?<who>u\\d+) action=(?<act>\\w+)/ '
                         '| filter act = "buy" | stats count(*) as c by who', self.txt)
        want = {}
        for e in self.d.text:
            if e['f'].get('action') == 'buy':
                want[e['f']['user']] = want.get(e['f']['user'], 0) + 1
        self.assertEqual({r['who']: r['c'] for r in rows}, want)

    def test_dedup_keeps_newest_per_value(self):
        rows = self.rows('filter logStatus = "OK" | fields srcAddr, bytes | dedup srcAddr',
                         self.vpc)
        seen, want = set(), []
        for e in sorted(self.d.flow, key=lambda e: -e['ts']):
            f = e['f']
            if f['logStatus'] == 'OK' and f['srcAddr'] not in seen:
                seen.add(f['srcAddr'])
                want.append((f['srcAddr'], f['bytes']))
        self.assertEqual([(r['srcAddr'], r['bytes']) for r in rows], want)

    def test_dedup_keeps_rows_with_null(self):
        rows = self.rows('fields srcAddr | dedup srcAddr', self.vpc)
        nodata = sum(1 for e in self.d.flow if e['f']['logStatus'] == 'NODATA')
        distinct = len({f['srcAddr'] for f in self.flows(ok_only=True)})
        self.assertEqual(len(rows), distinct + nodata)

    def test_json_fields(self):
        rows = self.rows('filter level = "error" | fields path, status, user.id as uid '
                         '| sort @timestamp asc | limit 10', self.app)
        want = sorted((e for e in self.d.json if e['f']['level'] == 'error'),
                      key=lambda e: e['ts'])[:10]
        self.assertEqual([{k: v for k, v in r.items() if k != '@ptr'} for r in rows],
                         [{'path': e['f']['path'], 'status': e['f']['status'],
                           'uid': e['f']['user']['id']} for e in want])
        rows = self.rows('stats avg(latencyMs) as a, count(latencyMs) as n, count(*) as c '
                         'by path', self.app)
        want = {}
        for e in self.d.json:
            lat = e['f'].get('latencyMs')
            s, n, c = want.get(e['f']['path'], (0, 0, 0))
            want[e['f']['path']] = (s + (lat or 0), n + (lat is not None), c + 1)
        got = {r['path']: r for r in rows}
        self.assertEqual(set(got), set(want))
        for p, (s, n, c) in want.items():
            self.assertEqual((got[p]['n'], got[p]['c']), (n, c), p)
            self.assertAlmostEqual(got[p]['a'], s / n, places=6)
        rows = self.rows('filter status >= 500 | stats count(*) as c by user.tier, tags.0',
                         self.app)
        want = {}
        for e in self.d.json:
            if e['f']['status'] >= 500:
                k = (e['f']['user']['tier'], e['f']['tags'][0])
                want[k] = want.get(k, 0) + 1
        self.assertEqual({(r['user.tier'], r['tags.0']): r['c'] for r in rows}, want)

    def test_two_stats_and_arithmetic(self):
        rows = self.rows('filter logStatus = "OK" | stats sum(bytes) as b, '
                         'sum(packets) as p by srcAddr | stats max(b) as mb, count(*) as n',
                         self.vpc)
        per = {}
        for f in self.flows(ok_only=True):
            per[f['srcAddr']] = per.get(f['srcAddr'], 0) + f['bytes']
        self.assertEqual(rows, [{'mb': max(per.values()), 'n': len(per)}])

    # -- groups and ranges

    def test_source_header(self):
        n_vpc, n_app = len(self.d.flow), len(self.d.json)
        self.assertEqual(self.one('SOURCE "%s" | stats count(*) as c' % self.vpc)['c'], n_vpc)
        self.assertEqual(self.one('SOURCE "%s" "%s" | stats count(*) as c'
                                  % (self.vpc, self.app))['c'], n_vpc + n_app)
        prefix = self.vpc[:-2]        # '/integ/q/<run>/vpc-' less a digit or two
        self.assertTrue(self.vpc.startswith(prefix))
        row = self.one('SOURCE logGroups(namePrefix: ["%s"]) | stats count(*) as c' % self.vpc)
        self.assertEqual(row['c'], n_vpc)
        # START/END in the header replace the request's range
        lo, hi = self.all_ts[10], self.all_ts[20]
        row = self.one('SOURCE "%s" START=%d END=%d | stats count(*) as c' % (self.vpc, lo, hi))
        self.assertEqual(row['c'], 11)

    def test_source_and_groups_errors(self):
        r = self.c.post_json('/api/v1/query', self.body('SOURCE "%s" | stats count(*)' % self.vpc,
                                                        self.vpc))
        self.assertError(r, 400, 'InvalidParameterException', 'not both')
        r = self.c.post_json('/api/v1/query', self.body('stats count(*)'))
        self.assertError(r, 400, 'InvalidParameterException', 'groups')
        r = self.c.post_json('/api/v1/query', self.body('SOURCE "/no/such/g" | stats count(*)'))
        self.assertError(r, 404, 'ResourceNotFoundException', '/no/such/g')
        r = self.c.post_json('/api/v1/query',
                             self.body('SOURCE logGroups(namePrefix: ["/no/such/p"]) | '
                                       'stats count(*)'))
        self.assertError(r, 404, 'ResourceNotFoundException', '/no/such/p')

    def test_time_range_edges_inclusive(self):
        k, m = len(self.all_ts) // 30, len(self.all_ts) * 2 // 15
        lo, hi = self.all_ts[k], self.all_ts[m]
        c = lambda **kw: self.one('stats count(*) as c', self.vpc, **kw)['c']  # noqa: E731
        self.assertEqual(c(start=lo, end=hi), m - k + 1)
        self.assertEqual(c(start=lo + 1, end=hi), m - k)
        self.assertEqual(c(start=lo, end=hi - 1), m - k)
        self.assertEqual(c(start=iso(lo), end=iso(hi)), m - k + 1)
        self.assertEqual(c(start=str(lo), end=str(hi)), m - k + 1)
        self.assertEqual(c(start='-1d'), len(self.d.flow))
        self.assertEqual(c(), len(self.d.flow))            # no range: everything
        last = self.all_ts[-1]
        b = self.sync('stats count(*) as c', self.vpc, start=last + 1, end=last + 1000)
        self.assertIn(b['results'], ([], [{'c': 0}]))

    def test_multiple_groups(self):
        row = self.one('stats count(*) as c', [self.vpc, self.app, self.vpc])
        self.assertEqual(row['c'], len(self.d.flow) + len(self.d.json))
        rows = self.rows('stats count(*) as c by @log', [self.vpc, self.app])
        self.assertEqual({r['@log']: r['c'] for r in rows},
                         {ACCOUNT + ':' + self.vpc: len(self.d.flow),
                          ACCOUNT + ':' + self.app: len(self.d.json)})

    # -- explain

    def test_explain_prunes_by_time_and_stream(self):
        def explain(query, **kw):
            r = self.c.post_json('/api/v1/queries/explain', self.body(query, self.vpc, **kw))
            self.assertEqual(r.status, 200, r)
            return r.json
        full = explain('stats count(*)')
        seg, byt = full['segments'], full['bytes']
        self.assertGreater(seg['total'], 3)
        self.assertEqual(seg['inRange'], seg['total'])
        self.assertEqual(seg['prunedByTime'], 0)
        self.assertIsInstance(full['plan'], list)
        self.assertTrue(full['plan'])
        narrow = explain('stats count(*)', start=self.all_ts[-5], end=self.all_ts[-1])
        self.assertGreater(narrow['segments']['prunedByTime'], 0, narrow)
        self.assertLess(narrow['segments']['inRange'], seg['total'], narrow)
        self.assertGreater(narrow['bytes']['prunedByTime'], 0, narrow)
        self.assertEqual(narrow['bytes']['total'], byt['total'])
        s = explain('filter @logStream = "eni-0a1b2c3d4e5f00001-all" | stats count(*)')
        self.assertGreater(s['segments']['prunedByStreams'], 0, s)
        t = explain('filter @message like "REJECT" | stats count(*)')
        self.assertIn('REJECT', json.dumps(t['terms']))

    def test_explain_errors(self):
        r = self.c.post_json('/api/v1/queries/explain', self.body('stats count(*) by', self.vpc))
        self.assertError(r, 400, 'MalformedQueryException')
        r = self.c.get('/api/v1/queries/explain')
        self.assertError(r, 405, 'MethodNotAllowedException', 'POST')

    # -- errors

    def test_custom_flow_log_format(self):
        # A group whose flow logs use a custom format (v3-v5 fields, another
        # order) gets its records split by that format once it is declared.
        g = uniq('custom-flow')
        fmt = '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action} ${flow-direction} ${bytes}'
        rng = random.Random(SEED + 7)
        evs, want = [], {}
        base = self.all_ts[0]
        for i in range(300):
            src = '10.1.0.%d' % rng.randrange(5)
            action = rng.choice(['ACCEPT', 'REJECT'])
            nbytes = rng.randrange(1, 5000)
            direction = rng.choice(['ingress', 'egress'])
            evs.append({'ts': base + i * 1000, 'stream': 'eni-9-all',
                        'msg': '5 vpc-0abc %s 10.2.0.1 %s %s %d' % (src, action, direction, nbytes)})
            if action == 'REJECT' and direction == 'ingress':
                want[src] = want.get(src, 0) + nbytes
        ingest(self.c, g, evs)
        path = '/api/v1/groups/%s/flow-log-format' % urllib.parse.quote(g, safe='')
        # Before: the 7 tokens are no v2 record, nothing is discovered.
        self.assertEqual(self.rows('stats count(srcAddr) as n', g, start=base), [{'n': 0}])
        r = self.c.request('PUT', path, json.dumps({'format': '${version} ${nope}'}).encode(),
                           'application/json')
        self.assertError(r, 400, contains=['nope'])
        r = self.c.request('PUT', path, json.dumps({'format': fmt}).encode(), 'application/json')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json['flowLogFormat'], fmt)
        got = self.rows('filter action = "REJECT" and flowDirection = "ingress" '
                        '| stats sum(bytes) as b by srcAddr | sort srcAddr asc', g, start=base)
        self.assertEqual(got, [{'srcAddr': k, 'b': v} for k, v in sorted(want.items())])
        self.assertEqual(self.rows('stats count(*) as n by vpcId', g, start=base),
                         [{'vpcId': 'vpc-0abc', 'n': 300}])
        r = self.c.delete(path)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json['flowLogFormat'])
        self.assertEqual(self.rows('stats count(srcAddr) as n', g, start=base), [{'n': 0}])
        r = self.c.request('PUT', '/api/v1/groups/nope-%s/flow-log-format' % _RUN,
                           json.dumps({'format': fmt}).encode(), 'application/json')
        self.assertError(r, 404)

    def test_malformed_query_line_column_caret(self):
        r = self.c.post_json('/api/v1/queries', self.body('stats count(*) by | sort x', self.vpc))
        b = self.assertError(r, 400, 'MalformedQueryException')
        self.assertEqual((b['line'], b['column']), (1, 19), b)
        self.assertIn('line 1, column 19', b['message'])
        lines = b['caret'].split('\n')
        src = [i for i, ln in enumerate(lines) if 'stats count(*) by | sort x' in ln]
        self.assertEqual(len(src), 1, b['caret'])
        indent = lines[src[0]].index('stats')
        self.assertEqual(lines[src[0] + 1].index('^') - indent, 18, b['caret'])
        r = self.c.post_json('/api/v1/query',
                             self.body('fields @message\n| filter x ==== 3', self.vpc))
        b = self.assertError(r, 400, 'MalformedQueryException')
        self.assertEqual(b['line'], 2, b)
        r = self.c.post_json('/api/v1/query', self.body('stats nosuchfn(x)', self.vpc))
        b = self.assertError(r, 400, 'MalformedQueryException', 'nosuchfn')

    def test_unknown_group_404(self):
        g = '/no/such/group-%s' % _RUN
        for path in ('/api/v1/queries', '/api/v1/query', '/api/v1/queries/explain'):
            r = self.c.post_json(path, self.body('stats count(*)', [self.vpc, g]))
            self.assertError(r, 404, 'ResourceNotFoundException', g)

    def test_bad_bodies(self):
        cases = [
            ({}, 'query'),
            ({'query': ''}, 'query'),
            ({'query': 5, 'groups': [self.vpc]}, 'query'),
            ({'query': 'stats count(*)', 'groups': self.vpc}, 'groups'),
            ({'query': 'stats count(*)', 'groups': []}, 'groups'),
            ({'query': 'stats count(*)', 'groups': [7]}, 'groups[0]'),
            ({'query': 'stats count(*)', 'groups': ['bad name!']}, None),
            ({'query': 'stats count(*)', 'groups': ['/g%d' % i for i in range(51)]}, '50'),
            ({'query': 'stats count(*)', 'groups': [self.vpc], 'limit': 0}, 'limit'),
            ({'query': 'stats count(*)', 'groups': [self.vpc], 'limit': 10001}, 'limit'),
            ({'query': 'stats count(*)', 'groups': [self.vpc], 'limit': '5'}, 'limit'),
            ({'query': 'stats count(*)', 'groups': [self.vpc], 'start': 'yesterday'}, 'start'),
            ({'query': 'stats count(*)', 'groups': [self.vpc], 'end': [1]}, 'end'),
            ({'query': 'stats count(*)', 'groups': [self.vpc], 'wait': 3}, 'wait'),
            ({'query': 'stats count(*)', 'groups': [self.vpc], 'logGroupName': 'x'},
             'logGroupName'),
            ({'query': 'x' * 10001, 'groups': [self.vpc]}, '10000'),
        ]
        for body, word in cases:
            with self.subTest(body=json.dumps(body)[:120]):
                r = self.c.post_json('/api/v1/queries', body)
                self.assertError(r, 400, 'InvalidParameterException', word or ())
        r = self.c.post_raw('/api/v1/queries', b'{"query":', 'application/json')
        self.assertError(r, 400, 'SerializationException')
        r = self.c.post_json('/api/v1/queries', self.body('stats count(*)', self.vpc,
                                                          start=self.all_ts[-1],
                                                          end=self.all_ts[0]))
        self.assertError(r, 400)

    def test_routing(self):
        self.assertError(self.c.request('PUT', '/api/v1/queries'), 405,
                         'MethodNotAllowedException')
        self.assertError(self.c.get('/api/v1/query'), 405, 'MethodNotAllowedException', 'POST')
        self.assertError(self.c.request('POST', '/api/v1/queries/x/y'), 404)
        self.assertError(self.c.request('PUT', '/api/v1/queries/abc'), 405)
        self.assertError(self.c.get('/api/v1/queries/00000000-0000-4000-8000-000000000000'),
                         404, 'ResourceNotFoundException', '00000000-0000-4000-8000')

    # -- the async API

    def test_async_lifecycle_and_listing(self):
        query = 'filter action = "REJECT" | stats count(*) as c by dstPort'
        t0 = now_ms()
        qid = self.start(query, self.vpc)
        b = self.poll(qid)
        self.assertEqual(b['status'], 'Complete', b)
        self.check_shape(b)
        self.assertEqual(b['fields'], ['dstPort', 'c'])
        want = {}
        for f in self.flows(ok_only=True):
            if f['action'] == 'REJECT':
                want[f['dstPort']] = want.get(f['dstPort'], 0) + 1
        self.assertEqual({r['dstPort']: r['c'] for r in b['results']}, want)
        self.assertNotIn('error', b)
        # the same answer again, later
        self.assertEqual(self.get(qid)['results'], b['results'])
        # listing
        r = self.c.get('/api/v1/queries')
        self.assertEqual(r.status, 200, r)
        mine = [x for x in r.json['queries'] if x['queryId'] == qid]
        self.assertEqual(len(mine), 1, r.json)
        x = mine[0]
        self.assertEqual(x['query'], query)
        self.assertEqual(x['status'], 'Complete')
        self.assertEqual(x['groups'], [self.vpc])
        self.assertGreaterEqual(x['createTime'], t0 - 1000)
        self.assertLessEqual(x['createTime'], now_ms() + 1000)
        self.assertGreaterEqual(x['duration'], 0)
        self.assertEqual(x['bytesScanned'], sum(len(e['msg'].encode()) for e in self.d.flow))
        r = self.c.get('/api/v1/queries?status=Complete&group=' + q(self.vpc))
        self.assertIn(qid, [x['queryId'] for x in r.json['queries']])
        self.assertTrue(all(x['status'] == 'Complete' and self.vpc in x['groups']
                            for x in r.json['queries']))
        r = self.c.get('/api/v1/queries?status=Running&group=' + q(self.vpc))
        self.assertNotIn(qid, [x['queryId'] for x in r.json['queries']])
        r = self.c.get('/api/v1/queries?group=' + q(self.app))
        self.assertNotIn(qid, [x['queryId'] for x in r.json['queries']])
        r = self.c.get('/api/v1/queries?limit=1')
        self.assertEqual(len(r.json['queries']), 1)
        self.assertError(self.c.get('/api/v1/queries?status=Done'), 400,
                         'InvalidParameterException', 'Scheduled')
        self.assertError(self.c.get('/api/v1/queries?limit=0'), 400)
        # stopping a finished query is an error that says so
        r = self.c.delete('/api/v1/queries/' + qid)
        self.assertError(r, 400, 'InvalidParameterException', ('not running', 'Complete'))

    def test_sync_and_async_agree(self):
        query = 'stats count(*) as c, sum(packets) as p by protocol'
        a = self.run_async(query, self.vpc)
        s = self.sync(query, self.vpc)
        key = lambda r: r.get('protocol', -1)  # noqa: E731  (NODATA: no protocol)
        self.assertEqual(sorted(a['results'], key=key), sorted(s['results'], key=key))
        self.assertNotEqual(a['queryId'], s['queryId'])

    # -- GetLogGroupFields

    def expected_fields(self, events, system=True):
        """Replays the server's sample: streams by last event, newest first,
        an equal share of what is left per stream, 1000 events in all."""
        by_stream = {}
        for e in events:
            by_stream.setdefault(e['stream'], []).append(e)
        order = sorted(by_stream, key=lambda s: -max(e['ts'] for e in by_stream[s]))
        sample, left = [], 1000
        for i, s in enumerate(order):
            quota = (left + (len(order) - i) - 1) // (len(order) - i)
            take = sorted(by_stream[s], key=lambda e: -e['ts'])[:quota]
            sample += take
            left -= len(take)
            if left <= 0:
                break
        return sample

    def flatten(self, obj, prefix=''):
        out = {}
        if isinstance(obj, dict):
            for k, v in obj.items():
                out.update(self.flatten(v, prefix + k + '.'))
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                out.update(self.flatten(v, prefix + str(i) + '.'))
        else:
            out[prefix[:-1]] = obj
        return out

    def fields_of(self, g, **params):
        r = self.c.get(group_path(g) + '/fields', **params)
        self.assertEqual(r.status, 200, r)
        return r.json

    def test_group_fields_flow_logs(self):
        b = self.fields_of(self.vpc)
        sample = self.expected_fields(self.d.flow)
        self.assertEqual(b['sampledEvents'], len(sample))
        got = {f['name']: f['percent'] for f in b['fields']}
        n = len(sample)
        want = {k: 100 for k in ('@timestamp', '@message', '@logStream', '@log',
                                 '@ingestionTime')}
        for k in ('version', 'accountId', 'interfaceId', 'srcAddr', 'dstAddr', 'srcPort',
                  'dstPort', 'protocol', 'packets', 'bytes', 'startTime', 'endTime',
                  'action', 'logStatus'):
            want[k] = share(sum(1 for e in sample if k in e['f']), n)
        self.assertEqual(got, want)
        pcts = [f['percent'] for f in b['fields']]
        self.assertEqual(pcts, sorted(pcts, reverse=True))

    def test_group_fields_json_and_range(self):
        n = len(self.d.json)
        lo, hi = self.d.json[n // 15]['ts'], self.d.json[n // 4]['ts']
        events = [e for e in self.d.json if lo <= e['ts'] <= hi]
        b = self.fields_of(self.app, start=lo, end=hi)
        sample = self.expected_fields(events)
        self.assertEqual(b['sampledEvents'], len(sample))
        counts = {}
        for e in sample:
            for k in self.flatten(e['f']):
                counts[k] = counts.get(k, 0) + 1
        want = {k: share(c, len(sample)) for k, c in counts.items()}
        want.update({k: 100 for k in ('@timestamp', '@message', '@logStream', '@log',
                                      '@ingestionTime')})
        self.assertEqual({f['name']: f['percent'] for f in b['fields']}, want)
        self.assertIn('user.tier', want)
        self.assertIn('tags.1', want)

    def test_group_fields_errors_and_empty(self):
        r = self.c.get(group_path('/no/such/%s' % _RUN) + '/fields')
        self.assertError(r, 404, 'ResourceNotFoundException')
        g = uniq('empty')
        self.assertEqual(self.c.post_json('/api/v1/groups', {'name': g}).status, 201)
        self.assertEqual(self.fields_of(g), {'fields': [], 'sampledEvents': 0})
        r = self.c.get(group_path(self.vpc) + '/fields?start=nope')
        self.assertError(r, 400, 'InvalidParameterException', 'start')
        r = self.c.request('POST', group_path(self.vpc) + '/fields')
        self.assertError(r, 405)

    # -- @ptr -> GetLogRecord

    def test_ptr_resolves_to_the_whole_event(self):
        rows = self.rows('filter action = "REJECT" | fields @timestamp, @message | limit 3',
                         self.vpc)
        by_msg = {e['msg']: e for e in self.d.flow}
        self.assertEqual(len(rows), 3)
        for row in rows:
            r = self.c.get('/api/v1/records/' + q(row['@ptr']))
            self.assertEqual(r.status, 200, r)
            rec = r.json['record']
            e = by_msg[row['@message']]
            self.assertEqual(rec['@message'], e['msg'])
            self.assertEqual(rec['@timestamp'], str(e['ts']))
            self.assertEqual(rec['@logStream'], e['stream'])
            self.assertEqual(rec['@log'], ACCOUNT + ':' + self.vpc)
            self.assertRegex(rec['@ingestionTime'], r'^\d{13}$')
            for k, v in e['f'].items():
                self.assertEqual(rec[k], str(v), k)
            for v in rec.values():
                self.assertIsInstance(v, str)
        rows = self.rows('fields @message | limit 2', self.app)
        for row in rows:
            rec = self.c.get('/api/v1/records/' + q(row['@ptr'])).json['record']
            f = self.flatten(json.loads(row['@message']))
            self.assertEqual(rec['user.id'], f['user.id'])
            self.assertEqual(rec['tags.0'], f['tags.0'])
            self.assertEqual(rec['status'], str(f['status']))

    def test_ptr_errors(self):
        self.assertError(self.c.get('/api/v1/records/not-a-pointer'), 400,
                         'InvalidParameterException', 'pointer')
        g = uniq('gone')
        ingest(self.c, g, [{'ts': self.d.base, 'stream': 's', 'msg': 'bye'}])
        row = self.one('fields @message', g)
        self.assertEqual(self.c.delete(group_path(g)).status, 204)
        r = self.c.get('/api/v1/records/' + q(row['@ptr']))
        self.assertError(r, 404, 'ResourceNotFoundException')

    def test_zz_same_answers_after_compaction(self):
        query = 'stats count(*) as c, sum(bytes) as b by action'
        before = sorted(self.rows(query, self.vpc), key=lambda r: r.get('action', ''))
        r = self.c.request('POST', '/api/v1/admin/compact')
        self.assertEqual(r.status, 200, r)
        after = sorted(self.rows(query, self.vpc), key=lambda r: r.get('action', ''))
        self.assertEqual(before, after)


# ---------------------------------------------------------------- life cycle

# Catastrophic backtracking: every event runs into PCRE2's match limit, about
# 30 ms (JIT) to 100 ms (interpreter) each, whatever the number of 'a's past
# ~25; SLOW_N of them keep even 16 workers busy for seconds.
SLOW_A = 28
SLOW_N = scaled(3000, 1500)


def slow_events(n):
    base = now_ms() - MS_HOUR
    return [{'ts': base + i, 'stream': 's', 'msg': 'a' * SLOW_A + '!'} for i in range(n)]


SLOW_QUERY = 'filter @message =~ /(a+)+$/ | stats count(*) as c'
# The per-query timeout of TestLifecycle: under valgrind a stalled second or
# two must not time out the queries the cap and wait tests keep running.
QUERY_TIMEOUT_S = 10 if WRAPPER else 2


class TestLifecycle(QueryCase):
    """Status changes, stop, the cap on concurrent queries, the wait limit of
    the synchronous endpoint, timeouts. A "slow" query hits PCRE2's match
    limit on every event; events go in as segments of 5 (compaction off) so
    a stop is seen within a segment."""

    server_args = ['--max-queries', '2', '--query-timeout', str(QUERY_TIMEOUT_S),
                   '--compact-interval', '0']
    server_threads = 2          # fewer threads than waiting requests

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.slow = uniq('slow')
        cls.fast = uniq('fast')
        try:
            ingest(cls.c, cls.slow, slow_events(SLOW_N), batch=5)
            ingest(cls.c, cls.fast, [{'ts': now_ms() - 1000, 'stream': 's', 'msg': 'x'}])
        except BaseException:
            cls.tearDownClass()
            raise

    def tearDown(self):
        # stop whatever a test left running, so the cap is free
        r = self.c.get('/api/v1/queries')
        for x in r.json['queries'] if r.status == 200 else []:
            if x['status'] in ('Scheduled', 'Running'):
                self.c.delete('/api/v1/queries/' + x['queryId'])
                self.poll(x['queryId'])
        super().tearDown()

    def test_running_then_stop_then_stop_again(self):
        qid = self.start(SLOW_QUERY, self.slow)
        b = self.poll(qid, until=('Running',) + TERMINAL, timeout=10)
        self.assertEqual(b['status'], 'Running', b)
        self.check_shape(b)                    # partial shape while running
        self.assertNotIn('error', b)
        r = self.c.delete('/api/v1/queries/' + qid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {'queryId': qid, 'success': True})
        b = self.poll(qid, timeout=5)
        self.assertEqual(b['status'], 'Cancelled', b)
        self.assertNotIn('error', b)
        r = self.c.delete('/api/v1/queries/' + qid)
        self.assertError(r, 400, 'InvalidParameterException', ('not running', 'Cancelled'))
        r = self.c.get('/api/v1/queries?status=Cancelled')
        self.assertIn(qid, [x['queryId'] for x in r.json['queries']])

    def test_cap_on_concurrent_queries_429(self):
        a = self.start(SLOW_QUERY, self.slow)
        b = self.start(SLOW_QUERY, self.slow)
        r = self.c.post_json('/api/v1/queries', self.body('stats count(*)', self.fast))
        body = self.assertError(r, 429, 'LimitExceededException', ('2', '--max-queries'))
        self.assertIn('concurrent', body['message'])
        self.assertEqual(r.header('Retry-After'), '1')
        r = self.c.post_json('/api/v1/query', self.body('stats count(*)', self.fast))
        self.assertError(r, 429, 'LimitExceededException')
        # one listing: a query that went from Scheduled to Running between
        # a listing of each status would be in neither
        r = self.c.get('/api/v1/queries')
        running = {x['queryId'] for x in r.json['queries']
                   if x['status'] in ('Scheduled', 'Running')}
        self.assertEqual(running, {a, b}, r.json)
        for qid in (a, b):
            self.assertEqual(self.c.delete('/api/v1/queries/' + qid).status, 200)
        for qid in (a, b):
            self.assertEqual(self.poll(qid, timeout=5)['status'], 'Cancelled')
        self.assertEqual(self.sync('stats count(*) as c', self.fast)['results'], [{'c': 1}])

    def test_sync_wait_limit_408_and_query_goes_on(self):
        t0 = time.time()
        r = self.c.post_json('/api/v1/query', self.body(SLOW_QUERY, self.slow, wait=0.3))
        took = time.time() - t0
        b = self.assertError(r, 408, 'TimeoutException', 'wait')
        self.assertGreaterEqual(took, 0.3)
        self.assertLess(took, 5 * TIME_FACTOR)
        self.assertRegex(b['queryId'], UUID_RE)
        self.assertIn(b['status'], ('Scheduled', 'Running'))
        self.assertIn(b['queryId'], b['message'])
        self.assertIn(self.get(b['queryId'])['status'], ('Scheduled', 'Running'))
        self.assertEqual(self.c.delete('/api/v1/queries/' + b['queryId']).status, 200)

    def test_sync_waits_without_holding_a_thread(self):
        """More waiting sync requests than the server has threads, and the
        server still answers other requests meanwhile."""
        results = []

        def wait_one():
            c = self.server.client()
            r = c.post_json('/api/v1/query', self.body(SLOW_QUERY, self.slow, wait=1))
            results.append(r.status)
            c.close()
        ts = [threading.Thread(target=wait_one) for _ in range(2)]
        for t in ts:
            t.start()
        time.sleep(0.3)
        for _ in range(5):       # answered while the waits go on
            self.assertEqual(self.c.get('/healthz').status, 200)
            self.assertEqual(self.c.get('/api/v1/queries').status, 200)
        for t in ts:
            t.join(60 * TIME_FACTOR)
        self.assertEqual(sorted(results), [408, 408])

    def test_timeout(self):
        qid = self.start(SLOW_QUERY, self.slow)
        b = self.poll(qid, timeout=30)
        self.assertEqual(b['status'], 'Timeout', b)
        self.assertEqual(b['error']['type'], 'TimeoutException', b)
        self.assertIn('%d s' % QUERY_TIMEOUT_S, b['error']['message'])
        self.check_shape(b)
        r = self.c.post_json('/api/v1/query', self.body(SLOW_QUERY, self.slow, wait=60))
        self.assertError(r, 408, 'TimeoutException')
        self.assertEqual(r.json['status'], 'Timeout')

    def test_wait_parameter(self):
        for w in (0, -1, 301, 'x', [1]):
            r = self.c.post_json('/api/v1/query', self.body('stats count(*)', self.fast, wait=w))
            self.assertError(r, 400, 'InvalidParameterException', 'wait')
        self.assertEqual(self.sync('stats count(*) as c', self.fast, wait=300)['results'],
                         [{'c': 1}])
        self.assertEqual(self.sync('stats count(*) as c', self.fast, wait=0.5)['results'],
                         [{'c': 1}])


class TestShutdown(unittest.TestCase):
    """SIGTERM with a query running and a synchronous request waiting on it:
    the request is answered, the server exits 0 promptly."""

    def test_shutdown_answers_waiting_request(self):
        srv = SluiceServer(['--compact-interval', '0'])
        try:
            srv.start()
            c = srv.client()
            g = uniq('slow')
            ingest(c, g, slow_events(SLOW_N), batch=5)
            got = []
            body = json.dumps(qbody(SLOW_QUERY, g, wait=120)).encode()

            def wait_one():
                got.append(raw_http(srv.port, 'POST', '/api/v1/query', body,
                                    {'Content-Type': 'application/json'},
                                    timeout=60 * TIME_FACTOR))
            t = threading.Thread(target=wait_one)
            t.start()
            deadline = time.time() + 10 * TIME_FACTOR
            while time.time() < deadline:
                r = c.get('/api/v1/queries?status=Running')
                if r.json['queries']:
                    break
                time.sleep(0.05)
            self.assertTrue(r.json['queries'], 'the query never ran')
            t0 = time.time()
            srv.stop(check=True)
            t.join(30 * TIME_FACTOR)
            self.assertLess(time.time() - t0, 20 * TIME_FACTOR)
            self.assertEqual(len(got), 1)
            status, raw = got[0]
            self.assertIn(status, (409, 503), got)
            if status == 409:
                b = json.loads(raw)
                self.assertEqual(b['error'], 'CancelledException')
                self.assertEqual(b['status'], 'Cancelled')
        finally:
            srv.cleanup()


if __name__ == '__main__':
    main()
