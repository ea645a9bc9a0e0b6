"""boto3's stream waiters against shardlog with 2 s create and delete delays.

Run by TestBoto3StreamNotExistsWaiter with SHARDLOG_ENDPOINT set to the
daemon's URL and dummy credentials in the environment. stream_not_exists
polls DescribeStream until ResourceNotFoundException, so the stream must be
described as DELETING during the delay. Exits non-zero on any mismatch.
"""

import os
import time

import boto3

endpoint = os.environ.get("SHARDLOG_ENDPOINT", "http://127.0.0.1:4567")
kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1")
stream = "boto3-waiters"
config = {"Delay": 1, "MaxAttempts": 30}

kinesis.create_stream(StreamName=stream, ShardCount=1)
kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig=config)
print("stream active")

kinesis.delete_stream(StreamName=stream)
began = time.monotonic()
status = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamStatus"]
assert status == "DELETING", status
print("stream deleting")
kinesis.get_waiter("stream_not_exists").wait(StreamName=stream, WaiterConfig=config)
took = time.monotonic() - began
assert took >= 1, f"stream_not_exists returned after {took:.1f} s, before the delete delay"
print(f"stream gone after {took:.1f} s")
