#!/usr/bin/python3
"""tests/integ/test_winston.py: a logging transport that ships to CloudWatch
Logs unchanged (winston + winston-cloudwatch, pinned in
tests/js/winston/package-lock.json) against a running `sluice serve`: the
test generates a few thousand lines (mixed levels, some JSON-like and
non-ASCII messages), tests/js/winston/ship_logs.mjs logs them through
winston-cloudwatch and flushes, then every line must come back exactly once
through the native API (paged with nextToken) and a Logs Insights query must
give the per-level counts computed here. The packages are installed by
`scripts/setup --test` (npm ci in tests/js/winston).

Run: /usr/bin/python3 tests/integ/test_winston.py
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import (TIME_FACTOR, ServerTestCase, main, now_ms,  # noqa: E402
                            read_events, scaled)

JS_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'js',
                                       'winston'))
NODE = '/usr/bin/node'
MODULES = [os.path.join(JS_DIR, 'node_modules', *m.split('/')) for m in
           ('winston', 'winston-cloudwatch', '@aws-sdk/client-cloudwatch-logs')]
GROUP = '/sluice/test/winston'
STREAM = 'app-1'
LEVELS = ('error', 'warn', 'info', 'debug')


def make_lines(n):
    """[level, message, meta] for n lines; seq in meta identifies each line."""
    out = []
    for i in range(n):
        level = LEVELS[(i * 7 + i // 5) % len(LEVELS)] if i % 3 else 'info'
        kind = i % 4
        if kind == 0:
            msg = 'request %d served in %d ms' % (i, i % 97)
        elif kind == 1:
            msg = 'payload {"user":"u%d","ok":%s,"tags":["a","b"]}' % (i % 13,
                                                                    'true' if i % 2 else 'false')
        elif kind == 2:
            msg = 'caf\u00e9 \u2603 "quoted" \\ back\tslash line %d' % i
        else:
            msg = 'x' * (i % 300)
        out.append([level, msg, {'seq': i, 'worker': 'w%d' % (i % 5)}])
    return out


class TestWinstonCloudWatch(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        missing = [m for m in MODULES if not os.path.isdir(m)]
        if not os.path.exists(NODE) or missing:
            raise AssertionError('node or npm packages are missing (%s): run scripts/setup '
                                 '--test (npm ci in tests/js/winston)' % ', '.join(missing))
        super().setUpClass()

    def test_ship_and_query(self):
        lines = make_lines(scaled(3000, minimum=200))
        t0 = now_ms()
        with tempfile.NamedTemporaryFile('w', suffix='.json', encoding='utf-8') as f:
            json.dump(lines, f)
            f.flush()
            p = subprocess.run([NODE, os.path.join(JS_DIR, 'ship_logs.mjs'), self.server.base,
                                GROUP, STREAM, f.name],
                               cwd=JS_DIR, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=180 * TIME_FACTOR)
        out = p.stdout.decode('utf-8', 'replace') + p.stderr.decode('utf-8', 'replace')
        self.assertEqual(p.returncode, 0, out)
        self.assertIn('shipped %d lines, 0 errors' % len(lines), out)

        # Every line back exactly once, with its level, message and meta.
        events, pages = read_events(self.c, GROUP, STREAM, limit=100)
        self.assertGreater(pages, 1)
        got = collections.Counter()
        for ev in events:
            rec = json.loads(ev['message'])
            seq = rec.get('seq')
            self.assertIsInstance(seq, int, ev)
            got[seq] += 1
            self.assertEqual([rec['level'], rec['message'], {'seq': seq, 'worker': rec['worker']}],
                             lines[seq], ev)
        dup = sorted(s for s, k in got.items() if k > 1)
        lost = sorted(set(range(len(lines))) - set(got))
        self.assertEqual((dup[:10], lost[:10]), ([], []),
                         '%d duplicated, %d lost of %d' % (len(dup), len(lost), len(lines)))
        self.assertEqual(len(events), len(lines))
        stamps = [ev['timestamp'] for ev in events]
        self.assertEqual(stamps, sorted(stamps))

        # Logs Insights over REST: counts by level, as a discovered JSON field
        # and with parse (winston-cloudwatch indents its JSON: '"level": "info"').
        want = dict(collections.Counter(level for level, _, _ in lines))
        rng = {'start': t0 - 3600 * 1000, 'end': now_ms() + 3600 * 1000}
        for query in ('stats count(*) as n by level',
                      'parse @message /"level":\\s*"(?<lv>[a-z]+)"/ | stats count(*) as n by lv'):
            r = self.c.post_json('/api/v1/query', dict(rng, groups=[GROUP], query=query))
            self.assertEqual(r.status, 200, '%s: %r' % (query, r))
            b = r.json
            self.assertEqual(b['status'], 'Complete', b)
            key = 'lv' if 'parse' in query else 'level'
            counts = {row.get(key): int(row['n']) for row in b['results']}
            self.assertEqual(counts, want, '%s: %r' % (query, b))
        query = 'filter worker = "w3" | stats count(*) as n'
        r = self.c.post_json('/api/v1/query', dict(rng, groups=[GROUP], query=query))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(int(r.json['results'][0]['n']),
                         sum(1 for _, _, m in lines if m['worker'] == 'w3'), r.json)


if __name__ == '__main__':
    main()
