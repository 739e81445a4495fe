// tests/js/tail/live_tail.cjs: StartLiveTail through the AWS SDK for
// JavaScript v3 (the pinned @aws-sdk/client-cloudwatch-logs of
// tests/js/insights, found through NODE_PATH), run by
// tests/integ/test_tail.py. Usage: node live_tail.cjs PORT GROUP STREAM.
// Starts a session with disableHostPrefix (the model's "stream-" host
// prefix would not resolve), posts one event through the native API once
// sessionStart arrived, and prints each event of the stream as a JSON line
// until a sessionUpdate carries it. Exit 0 when it did, 1 otherwise.
const { CloudWatchLogsClient, StartLiveTailCommand } = require("@aws-sdk/client-cloudwatch-logs");
const http = require("http");

const [port, group, stream] = process.argv.slice(2);

function post(message) {
  const body = JSON.stringify([{ timestamp: Date.now(), message }]);
  const req = http.request({
    host: "127.0.0.1", port: Number(port), method: "POST",
    path: `/api/v1/groups/${encodeURIComponent(group)}/streams/${encodeURIComponent(stream)}/events`,
    headers: { "content-type": "application/json" },
  });
  req.on("error", (e) => console.error("post failed:", e));
  req.end(body);
}

(async () => {
  const client = new CloudWatchLogsClient({
    endpoint: `http://127.0.0.1:${port}`, region: "us-east-1",
    credentials: { accessKeyId: "AKIDJSTAIL", secretAccessKey: "x" },
    disableHostPrefix: true,
  });
  const res = await client.send(new StartLiveTailCommand({
    logGroupIdentifiers: [group], logEventFilterPattern: "hello",
  }));
  let updates = 0;
  for await (const ev of res.responseStream) {
    console.log(JSON.stringify(ev));
    if (ev.sessionStart) {
      post("skip me");
      post("hello from js");
    }
    if (ev.sessionUpdate) {
      if (ev.sessionUpdate.sessionResults.some((r) => r.message === "hello from js"))
        process.exit(0);
      if (++updates > 10)
        break;
    }
  }
  process.exit(1);
})().catch((e) => { console.error("error:", e); process.exit(1); });
