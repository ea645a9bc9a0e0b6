"""boto3 against a sigv4-mode shardlog: the admin key (from the
environment) creates a stream; the app key, whose policy allows the seed's
five actions on stream "app" only, produces and consumes it and is refused
CreateStream; a wrong secret is refused with InvalidSignatureException."""
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

endpoint = os.environ["SHARDLOG_ENDPOINT"]


def client(key, secret):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)


def expect_error(code, fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        if got != code or status != 400:
            sys.exit("want %s/400, got %s/%s: %s" % (code, got, status, e))
        print("refused as expected:", got, e.response["Error"]["Message"])
        return
    sys.exit("want %s, got success" % code)


admin = client(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
admin.create_stream(StreamName="app", ShardCount=1)
for _ in range(100):
    if admin.describe_stream_summary(StreamName="app")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
        break
    time.sleep(0.1)
print("admin created stream app")

app = client("AKIDAPP", "app-secret")
put = app.put_record(StreamName="app", PartitionKey="k", Data=b"signed by boto3")
shard = app.describe_stream(StreamName="app")["StreamDescription"]["Shards"][0]["ShardId"]
it = app.get_shard_iterator(StreamName="app", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
recs = app.get_records(ShardIterator=it)["Records"]
assert [r["Data"] for r in recs] == [b"signed by boto3"], recs
print("app produced and consumed", put["SequenceNumber"])

expect_error("AccessDeniedException", app.create_stream, StreamName="nope", ShardCount=1)
expect_error("InvalidSignatureException", client("AKIDAPP", "wrong").list_streams)
expect_error("UnrecognizedClientException", client("AKIDNOBODY", "x").list_streams)
