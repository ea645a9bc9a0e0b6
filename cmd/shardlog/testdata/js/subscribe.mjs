// Enhanced fan-out through the AWS SDK for JavaScript v3, run by
// TestJavaScriptSDKSubscribe with SHARDLOG_ENDPOINT set to the daemon's URL:
// register a consumer, subscribe to a shard with SubscribeToShardCommand,
// put records while subscribed, and check every one is pushed once, in
// order, byte for byte.
//
// usage: node subscribe.mjs
//   The client's default request handler is used (NodeHttp2Handler for
//   Kinesis): h2c for an http:// endpoint, TLS with ALPN h2 for https://
//   (the test trusts the daemon's certificate through NODE_EXTRA_CA_CERTS).
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  RegisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  SubscribeToShardCommand,
  PutRecordCommand,
  PutRecordsCommand,
  DeregisterStreamConsumerCommand,
  DeleteStreamCommand,
} from "@aws-sdk/client-kinesis";
import assert from "node:assert/strict";

const watchdog = setTimeout(() => {
  console.error("timed out after 60s");
  process.exit(1);
}, 60_000);

const endpoint = process.env.SHARDLOG_ENDPOINT ?? "http://127.0.0.1:4567";
const client = new KinesisClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDSHARDLOGTEST", secretAccessKey: "shardlog-test-secret" },
  maxAttempts: 1,
});
console.log(`request handler: ${client.config.requestHandler.constructor.name}, endpoint ${endpoint}`);

const stream = `js-efo-${new URL(endpoint).protocol.replace(":", "")}`;
await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
let streamARN;
for (let i = 0; ; i++) {
  const { StreamDescriptionSummary: s } = await client.send(
    new DescribeStreamSummaryCommand({ StreamName: stream }),
  );
  if (s.StreamStatus === "ACTIVE") {
    streamARN = s.StreamARN;
    break;
  }
  assert.ok(i < 100, `stream still ${s.StreamStatus}`);
  await new Promise((r) => setTimeout(r, 100));
}

const { Consumer } = await client.send(
  new RegisterStreamConsumerCommand({ StreamARN: streamARN, ConsumerName: "js-app" }),
);
for (let i = 0; ; i++) {
  const { ConsumerDescription: d } = await client.send(
    new DescribeStreamConsumerCommand({ ConsumerARN: Consumer.ConsumerARN }),
  );
  if (d.ConsumerStatus === "ACTIVE") break;
  assert.ok(i < 100, `consumer still ${d.ConsumerStatus}`);
  await new Promise((r) => setTimeout(r, 100));
}
console.log(`consumer ${Consumer.ConsumerARN} active`);

const abort = new AbortController();
const sub = await client.send(
  new SubscribeToShardCommand({
    ConsumerARN: Consumer.ConsumerARN,
    ShardId: "shardId-000000000000",
    StartingPosition: { Type: "LATEST" },
  }),
  { abortSignal: abort.signal },
);
// The response headers have arrived, so the server has fixed LATEST: every
// record put from here on is pushed. (An idle shard, even an empty one,
// also sends events without records, which the loop below takes in stride.)
const events = sub.EventStream[Symbol.asyncIterator]();
console.log("subscribed");

const payloads = [];
const seqs = [];
for (let i = 0; i < 20; i++) {
  const data = new TextEncoder().encode(`record ${i} over ${endpoint}`);
  const out = await client.send(
    new PutRecordCommand({ StreamName: stream, PartitionKey: `pk-${i}`, Data: data }),
  );
  payloads.push(data);
  seqs.push(out.SequenceNumber);
}
const batch = Array.from({ length: 30 }, (_, i) => new Uint8Array(64 + i).map((_, j) => (i + j) % 256));
const put = await client.send(
  new PutRecordsCommand({
    StreamName: stream,
    Records: batch.map((Data, i) => ({ Data, PartitionKey: `batch-${i}` })),
  }),
);
assert.equal(put.FailedRecordCount ?? 0, 0);
payloads.push(...batch);
seqs.push(...put.Records.map((r) => r.SequenceNumber));
console.log(`produced ${seqs.length} records`);

const got = [];
let continuation;
while (got.length < seqs.length) {
  const { value, done } = await events.next();
  assert.ok(!done, `stream ended after ${got.length} of ${seqs.length} records`);
  const ev = value.SubscribeToShardEvent;
  assert.ok(ev, `unexpected event ${JSON.stringify(value)}`);
  got.push(...ev.Records);
  continuation = ev.ContinuationSequenceNumber;
}
assert.equal(got.length, seqs.length, "more records than were put");
got.forEach((r, i) => {
  assert.equal(r.SequenceNumber, seqs[i], `record ${i} out of order`);
  assert.deepEqual(Buffer.from(r.Data), Buffer.from(payloads[i]));
  assert.ok(r.ApproximateArrivalTimestamp instanceof Date);
});
assert.equal(continuation, seqs.at(-1));
console.log(`pushed ${got.length} records in order, byte for byte`);

abort.abort();
await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: Consumer.ConsumerARN }));
await client.send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true }));
client.destroy();
clearTimeout(watchdog);
console.log("consumer deregistered, stream deleted");
process.exit(0);
