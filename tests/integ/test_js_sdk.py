#!/usr/bin/python3
"""tests/integ/test_js_sdk.py: the AWS SDK for JavaScript v3
(@aws-sdk/client-cloudwatch-logs, pinned in
tests/js/insights/package-lock.json)
against a running `sluice serve`: starts the server and runs
tests/js/insights/cwl_query.mjs with Debian's node, which creates a group, puts
events, runs Logs Insights queries and checks the answers. The SDK is
installed by `scripts/setup --test` (npm ci in tests/js/insights).

Run: /usr/bin/python3 tests/integ/test_js_sdk.py
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True    # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_fixture import TIME_FACTOR, ServerTestCase, main  # noqa: E402

JS_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'js',
                                       'insights'))
NODE = '/usr/bin/node'
SDK = os.path.join(JS_DIR, 'node_modules', '@aws-sdk', 'client-cloudwatch-logs')


class TestJsSdk(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(NODE) or not os.path.isdir(SDK):
            raise AssertionError('node or the JS SDK is missing: run scripts/setup --test '
                                 '(installs nodejs and npm, then npm ci in tests/js/insights)')
        super().setUpClass()

    def test_insights_queries(self):
        p = subprocess.run([NODE, os.path.join(JS_DIR, 'cwl_query.mjs'), self.server.base],
                           cwd=JS_DIR, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=180 * TIME_FACTOR)
        out = p.stdout.decode('utf-8', 'replace') + p.stderr.decode('utf-8', 'replace')
        self.assertEqual(p.returncode, 0, out)
        self.assertIn(' passed, 0 failed', out)


if __name__ == '__main__':
    main()
