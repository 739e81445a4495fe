// tests/js/ingest_http/senders.mjs: real senders from npm (pinned in
// package-lock.json) against Sluice's HTTP ingest endpoints; argv[2] is the
// base URL of a running server. The OpenTelemetry JS SDK's OTLP/HTTP log
// exporters (JSON, and protobuf with gzip) post to /v1/logs with the
// x-aws-log-group / x-aws-log-stream headers and a bearer token;
// splunk-logging posts batches to /services/collector/event with the
// target in query parameters. Everything sent is read back through the
// native API: every event exactly once, with its timestamp.
// Prints "N passed, N failed" and exits non-zero on any failure.
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import SplunkLogging from 'splunk-logging';
import assert from 'node:assert/strict';

const base = process.argv[2];
const run = `${process.pid}-${Date.now()}`;
const N = 300;
let passed = 0;
let failed = 0;

async function api(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json() };
}

async function target(name) {
  const g = `/js-ingest/${run}/${name}`;
  const s = 'stream-1';
  assert.equal((await api('POST', '/api/v1/groups', { name: g })).status, 201);
  assert.equal((await api('POST', `/api/v1/groups/${encodeURIComponent(g)}/streams`,
    { name: s })).status, 201);
  return { g, s };
}

async function readBack({ g, s }) {
  const events = [];
  let token;
  for (;;) {
    const q = token ? `?nextToken=${encodeURIComponent(token)}` : '';
    const r = await api('GET', `/api/v1/groups/${encodeURIComponent(g)}/streams/` +
      `${encodeURIComponent(s)}/events${q}`);
    assert.equal(r.status, 200);
    events.push(...r.json.events);
    token = r.json.nextToken;
    if (!token) return events;
  }
}

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

async function otlp(Exporter, name, compression) {
  const t = await target(name);
  const exporter = new Exporter({
    url: `${base}/v1/logs`,
    headers: { 'x-aws-log-group': t.g, 'x-aws-log-stream': t.s,
      Authorization: 'Bearer ACWLtesttoken' },
    ...(compression ? { compression } : {}),
  });
  const provider = new LoggerProvider({
    processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 100 })],
  });
  const logger = provider.getLogger('sluice-js-test', '1.2.3');
  const t0 = Date.now() - 60000;
  for (let i = 0; i < N; i++) {
    logger.emit({ timestamp: t0 + i, severityNumber: 13, severityText: 'WARN',
      body: `${name} record ${i}`, attributes: { i, kind: name } });
  }
  await provider.forceFlush();
  await provider.shutdown();
  const got = await readBack(t);
  assert.equal(got.length, N, `${got.length} events read back, ${N} sent`);
  const seen = new Set();
  for (const e of got) {
    const m = JSON.parse(e.message);
    assert.equal(m.severityText, 'WARN');
    assert.equal(m.scope.name, 'sluice-js-test');
    assert.equal(m.attributes.kind, name);
    const i = m.attributes.i;
    assert.equal(m.body, `${name} record ${i}`);
    assert.equal(e.timestamp, t0 + i);
    assert.ok(!seen.has(i), `record ${i} twice`);
    seen.add(i);
  }
}

await check('otlp-http json exporter', () => otlp(JsonExporter, 'json'));
await check('otlp-proto exporter, gzip', () => otlp(ProtoExporter, 'proto', 'gzip'));

await check('splunk-logging HEC batches', async () => {
  const t = await target('hec');
  const url = `${base}/services/collector/event?logGroup=${encodeURIComponent(t.g)}` +
    `&logStream=${encodeURIComponent(t.s)}`;
  const logger = new SplunkLogging.Logger({ token: 'hec-token', url, maxBatchCount: 25 });
  const errors = [];
  logger.error = (err) => errors.push(err);
  const t0 = Math.floor(Date.now() / 1000) - 120;
  const replies = [];
  for (let i = 0; i < N; i++) {
    logger.send({ message: { text: `hec ${i}`, i },
      metadata: { time: t0 + i / 1000, source: 'sluice-test' } },
    (err, resp) => replies.push(err ? String(err) : resp.statusCode));
  }
  await new Promise((resolve) => logger.flush(() => resolve()));
  for (let w = 0; w < 100 && replies.length < N / 25; w++)
    await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(errors, []);
  assert.ok(replies.every((x) => x === 200), `replies: ${replies}`);
  const got = await readBack(t);
  assert.equal(got.length, N, `${got.length} events read back, ${N} sent`);
  const seen = new Set();
  for (const e of got) {
    const m = JSON.parse(e.message);
    assert.equal(m.message.text, `hec ${m.message.i}`);
    assert.equal(e.timestamp, t0 * 1000 + m.message.i);
    assert.ok(!seen.has(m.message.i));
    seen.add(m.message.i);
  }
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
