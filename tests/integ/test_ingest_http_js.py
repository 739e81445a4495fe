#!/usr/bin/python3
"""tests/integ/test_ingest_http_js.py: real senders from npm against the HTTP
ingest endpoints of a running `sluice serve`: starts the server and runs
tests/js/ingest_http/senders.mjs with node, which sends through the
OpenTelemetry JS SDK's OTLP/HTTP log exporters (JSON; protobuf with gzip)
and splunk-logging (HEC), then reads every event back through the native
API. The packages are pinned in tests/js/ingest_http/package-lock.json and
installed by `scripts/setup --test`.

Run: /usr/bin/python3 tests/integ/test_ingest_http_js.py
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import TIME_FACTOR, ServerTestCase, main  # noqa: E402

JS_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'js',
                                       'ingest_http'))
NODE = '/usr/bin/node'
MODULES = [os.path.join(JS_DIR, 'node_modules', *m.split('/')) for m in
           ('@opentelemetry/exporter-logs-otlp-http', '@opentelemetry/exporter-logs-otlp-proto',
            '@opentelemetry/sdk-logs', 'splunk-logging')]


class TestIngestHttpSenders(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        missing = [m for m in MODULES if not os.path.isdir(m)]
        if not os.path.exists(NODE) or missing:
            raise AssertionError('node or npm packages are missing (%s): run scripts/setup '
                                 '--test (npm ci in tests/js/ingest_http)' % ', '.join(missing))
        super().setUpClass()

    def test_otlp_and_hec_senders(self):
        p = subprocess.run([NODE, os.path.join(JS_DIR, 'senders.mjs'), self.server.base],
                           cwd=JS_DIR, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=180 * TIME_FACTOR)
        out = p.stdout.decode('utf-8', 'replace') + p.stderr.decode('utf-8', 'replace')
        self.assertEqual(p.returncode, 0, out)
        self.assertIn('3 passed, 0 failed', out)


if __name__ == '__main__':
    main()
