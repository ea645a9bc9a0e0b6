// Smoke test of shardlog through the AWS SDK for JavaScript v3, run by
// TestJavaScriptSDKSmoke with SHARDLOG_ENDPOINT set to the daemon's URL.
//
// usage: node smoke.mjs default|http2|http1
//   default  the client's own request handler (NodeHttp2Handler for Kinesis:
//            HTTP/2 without TLS, prior knowledge)
//   http2    NodeHttp2Handler given explicitly
//   http1    NodeHttpHandler (HTTP/1.1)
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordCommand,
  PutRecordsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  DeleteStreamCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler, NodeHttp2Handler } from "@smithy/node-http-handler";
import assert from "node:assert/strict";

const mode = process.argv[2] ?? "default";
const handlers = {
  default: undefined,
  http2: new NodeHttp2Handler({ disableConcurrentStreams: true }),
  http1: new NodeHttpHandler(),
};
if (!(mode in handlers)) {
  console.error(`unknown handler ${mode}`);
  process.exit(2);
}
const client = new KinesisClient({
  endpoint: process.env.SHARDLOG_ENDPOINT ?? "http://127.0.0.1:4567",
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDSHARDLOGTEST", secretAccessKey: "shardlog-test-secret" },
  requestHandler: handlers[mode],
  maxAttempts: 1,
});
console.log(`request handler: ${client.config.requestHandler.constructor.name}`);

const stream = `js-smoke-${mode}`;
await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
for (let i = 0; ; i++) {
  const { StreamDescriptionSummary: s } = await client.send(
    new DescribeStreamSummaryCommand({ StreamName: stream }),
  );
  if (s.StreamStatus === "ACTIVE") break;
  assert.ok(i < 100, `stream still ${s.StreamStatus}`);
  await new Promise((r) => setTimeout(r, 100));
}
console.log("stream active");

const payloads = [
  new Uint8Array([0, 1, 2, 253, 254, 255]),
  new TextEncoder().encode(`hello over ${mode}`),
  new Uint8Array(4096).map((_, i) => (i * 7) % 256),
];
const put = await client.send(
  new PutRecordCommand({ StreamName: stream, PartitionKey: "pk", Data: payloads[0] }),
);
const batch = await client.send(
  new PutRecordsCommand({
    StreamName: stream,
    Records: payloads.slice(1).map((Data, i) => ({ Data, PartitionKey: `pk-${i}` })),
  }),
);
assert.equal(batch.FailedRecordCount ?? 0, 0);
const seqs = [put.SequenceNumber, ...batch.Records.map((r) => r.SequenceNumber)];
console.log(`produced ${seqs.length} records`);

const { ShardIterator } = await client.send(
  new GetShardIteratorCommand({
    StreamName: stream,
    ShardId: put.ShardId,
    ShardIteratorType: "TRIM_HORIZON",
  }),
);
const got = await client.send(new GetRecordsCommand({ ShardIterator }));
assert.equal(got.Records.length, payloads.length);
got.Records.forEach((r, i) => {
  assert.equal(r.SequenceNumber, seqs[i]);
  assert.deepEqual(Buffer.from(r.Data), Buffer.from(payloads[i]));
  assert.ok(r.ApproximateArrivalTimestamp instanceof Date);
});
assert.ok(got.NextShardIterator);
console.log(`consumed ${got.Records.length} records, byte for byte`);

await client.send(new DeleteStreamCommand({ StreamName: stream }));
client.destroy();
console.log("stream deleted");
