"""A boto3 producer and consumer against shardlog (the README's example).

Run by TestBoto3Smoke with SHARDLOG_ENDPOINT set to the daemon's URL and
dummy credentials in the environment. Exits non-zero on any mismatch.
"""

import os
import sys

import boto3

endpoint = os.environ.get("SHARDLOG_ENDPOINT", "http://127.0.0.1:4567")
kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1")
stream = "boto3-smoke"

# Producer: a two-shard stream, ten binary records in one PutRecords call and
# one more with PutRecord.
kinesis.create_stream(StreamName=stream, ShardCount=2)
kinesis.get_waiter("stream_exists").wait(
    StreamName=stream, WaiterConfig={"Delay": 1, "MaxAttempts": 20}
)
print("stream active")

sent = {}
entries = [
    {"Data": bytes([i, 0, 255, i]) + f"record-{i}".encode(), "PartitionKey": f"key-{i}"}
    for i in range(10)
]
resp = kinesis.put_records(StreamName=stream, Records=entries)
assert resp["FailedRecordCount"] == 0, resp
for entry, result in zip(entries, resp["Records"]):
    sent[result["SequenceNumber"]] = (result["ShardId"], entry["Data"])
one = kinesis.put_record(StreamName=stream, Data=b"\x00single\xff", PartitionKey="solo")
sent[one["SequenceNumber"]] = (one["ShardId"], b"\x00single\xff")
print(f"produced {len(sent)} records")

# Consumer: read every shard from TRIM_HORIZON until it is drained.
received = {}
for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
    iterator = kinesis.get_shard_iterator(
        StreamName=stream,
        ShardId=shard["ShardId"],
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    while iterator:
        out = kinesis.get_records(ShardIterator=iterator, Limit=4)
        for r in out["Records"]:
            received[r["SequenceNumber"]] = (shard["ShardId"], r["Data"])
        if not out["Records"] and out.get("MillisBehindLatest", 0) == 0:
            break
        iterator = out.get("NextShardIterator")

if received != sent:
    print(f"sent {sent}\nreceived {received}", file=sys.stderr)
    sys.exit(1)
print(f"consumed {len(received)} records, byte for byte")

kinesis.delete_stream(StreamName=stream)
print("stream deleted")
