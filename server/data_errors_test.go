package server

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/shardlog/shardlog/shard"
)

func TestRecordSizeLimit(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "big-" + c.name
		e.createStream(name, 1)
		data := bytes.Repeat([]byte{0, 1, 2, 0xff}, (1<<20)/4)
		data = data[:len(data)-1] // 1 MiB with the one-byte partition key
		if _, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: data}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.sdk.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: data}}}); err != nil {
			t.Fatal(err)
		}
		got := readAll(t, c, iter(t, c, name, "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, nil, nil))
		if len(got) != 2 || !bytes.Equal(got[0].Data, data) || !bytes.Equal(got[1].Data, data) {
			t.Fatalf("1 MiB records did not round-trip (%d read)", len(got))
		}
		_, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("kk"), Data: data})
		wantAPIError(t, err, wire.InvalidArgument, "Record size of 1048577 bytes")
		_, err = c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: append(data, 1, 2)})
		wantAPIError(t, err, wire.Validation, "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576")
		_, err = c.sdk.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: []types.PutRecordsRequestEntry{
			{PartitionKey: aws.String("k"), Data: []byte("x")}, {PartitionKey: aws.String("k"), Data: append(data, 1, 2)}}})
		wantAPIError(t, err, wire.Validation, "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'records.2.member.data'")
	})
}

func TestGetRecordsLimitAndLag(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "lag-" + c.name
		e.createStream(name, 1)
		var entries []types.PutRecordsRequestEntry
		for i := 0; i < 10; i++ {
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte{byte(i)}})
		}
		if _, err := c.sdk.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		it := iter(t, c, name, "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, nil, nil)
		var got []byte
		for i := 0; ; i++ {
			out, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(3)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Records) > 3 {
				t.Fatalf("Limit 3 returned %d records", len(out.Records))
			}
			for _, r := range out.Records {
				got = append(got, r.Data...)
			}
			behind := len(got) < 10
			if behind && *out.MillisBehindLatest <= 0 || !behind && *out.MillisBehindLatest != 0 {
				t.Fatalf("after %d records MillisBehindLatest is %d", len(got), *out.MillisBehindLatest)
			}
			if len(out.Records) == 0 {
				break
			}
			it = *out.NextShardIterator
		}
		if !bytes.Equal(got, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Fatalf("read %v", got)
		}
	})
}

func TestIteratorErrors(t *testing.T) {
	e := newEnv(t)
	other := newEnv(t)
	e.createStream("s", 2)
	other.createStream("s", 2)
	e.each(t, func(t *testing.T, c testClient) {
		it := iter(t, c, "s", "shardId-000000000001", types.ShardIteratorTypeTrimHorizon, nil, nil)
		get := func(it string) error {
			_, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
			return err
		}
		if err := get(it); err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(it)
		for i := range raw {
			tampered := bytes.Clone(raw)
			tampered[i] ^= 0x10
			wantAPIError(t, get(base64.RawURLEncoding.EncodeToString(tampered)), wire.InvalidArgument, "Invalid ShardIterator.")
		}
		wantAPIError(t, get("garbage"), wire.InvalidArgument, "Invalid ShardIterator.")
		wantAPIError(t, get(it[:len(it)-4]), wire.InvalidArgument, "Invalid ShardIterator.")
		foreign := iter(t, other.clients[0], "s", "shardId-000000000001", types.ShardIteratorTypeTrimHorizon, nil, nil)
		wantAPIError(t, get(foreign), wire.InvalidArgument, "Invalid ShardIterator.")

		e.skew.Store(int64(5*time.Minute + time.Second))
		defer e.skew.Store(0)
		wantAPIError(t, get(it), wire.ExpiredIterator, "Iterator expired. The iterator was created at time ")
	})
}

func TestClosedShardChildShards(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "split-" + c.name
		st := e.createStream(name, 1)
		if _, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("a")}); err != nil {
			t.Fatal(err)
		}
		it := iter(t, c, name, "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, nil, nil)
		mid, _ := shard.ParseHashKey("170141183460469231731687303715884105728")
		if err := st.SplitShard("shardId-000000000000", mid); err != nil {
			t.Fatal(err)
		}
		out, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Records) != 1 {
			t.Fatalf("read %d records", len(out.Records))
		}
		if out.NextShardIterator != nil {
			out, err = c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
			if err != nil {
				t.Fatal(err)
			}
		}
		if out.NextShardIterator != nil || len(out.ChildShards) != 2 {
			t.Fatalf("at the end of a closed shard: next %v, %d child shards", out.NextShardIterator, len(out.ChildShards))
		}
		for _, ch := range out.ChildShards {
			if len(ch.ParentShards) != 1 || ch.ParentShards[0] != "shardId-000000000000" || ch.HashKeyRange == nil {
				t.Fatalf("child %+v", ch)
			}
		}
		// Puts now land in the children.
		pr, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("b")})
		if err != nil {
			t.Fatal(err)
		}
		if *pr.ShardId == "shardId-000000000000" {
			t.Fatal("put went to the closed parent")
		}
	})
}

func TestDataPlaneValidation(t *testing.T) {
	e := newEnv(t)
	st := e.createStream("v", 2)
	sh1, _ := st.Shard("shardId-000000000001")
	seq1 := sh1.SequenceNumber(0)
	e.each(t, func(t *testing.T, c testClient) {
		f := func(op, body, typ, msg string) {
			t.Helper()
			r := c.call(t, e.addr, op, body)
			key := (&wire.APIError{Type: typ}).MessageKey()
			if r.body["__type"] != typ || r.body[key] != msg {
				t.Errorf("%s %s:\n got %v %q\nwant %s %q", op, body, r.body["__type"], r.body[key], typ, msg)
			}
		}
		f("PutRecord", `{}`, wire.Validation, "2 validation errors detected: "+
			"Value null at 'partitionKey' failed to satisfy constraint: Member must not be null; "+
			"Value null at 'data' failed to satisfy constraint: Member must not be null")
		f("PutRecord", `{"StreamName":"v","PartitionKey":"","Data":"","ExplicitHashKey":"01"}`, wire.Validation, "2 validation errors detected: "+
			"Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; "+
			"Value '01' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})")
		f("PutRecord", `{"PartitionKey":"`+strings.Repeat("x", 257)+`","Data":"","StreamName":"`+strings.Repeat("a", 129)+`"}`, wire.Validation, "2 validation errors detected: "+
			"Value '"+strings.Repeat("x", 257)+"' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256; "+
			"Value '"+strings.Repeat("a", 129)+"' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128")
		f("PutRecord", `{"PartitionKey":"a","Data":""}`, wire.InvalidArgument, "Either StreamName or StreamARN must be provided.")
		f("PutRecord", `{"PartitionKey":"a","Data":"","StreamName":"nope"}`, wire.ResourceNotFound, "Stream nope under account 000000000000 not found.")
		f("PutRecord", `{"PartitionKey":"a","Data":"","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/v","StreamName":"w"}`, wire.InvalidArgument,
			"StreamARN arn:aws:kinesis:us-east-1:000000000000:stream/v and StreamName w do not identify the same stream.")
		f("PutRecord", `{"PartitionKey":"a","Data":"","StreamARN":"arn:aws:kinesis:eu-west-1:123456789012:stream/v"}`, wire.ResourceNotFound, "Stream v under account 123456789012 not found.")
		f("PutRecord", `{"PartitionKey":"a","Data":"","StreamARN":"nope"}`, wire.Validation,
			"1 validation error detected: Value 'nope' at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+")
		f("PutRecord", `{"PartitionKey":"a","Data":"","StreamName":"v","ExplicitHashKey":"340282366920938463463374607431768211456"}`, wire.InvalidArgument,
			"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456")
		f("PutRecord", `{"PartitionKey":"a","Data":"!!!!","StreamName":"v"}`, wire.Serialization, "Base64 encoded blob could not be decoded: invalid character at offset 0")
		f("PutRecords", `{"StreamName":"v"}`, wire.Validation, "1 validation error detected: Value null at 'records' failed to satisfy constraint: Member must not be null")
		f("PutRecords", `{"StreamName":"v","Records":[]}`, wire.Validation, "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1")
		f("PutRecords", `{"StreamName":"v","Records":[{"Data":""},{"PartitionKey":"a","Data":"","ExplicitHashKey":"x"}]}`, wire.Validation, "2 validation errors detected: "+
			"Value null at 'records.1.member.partitionKey' failed to satisfy constraint: Member must not be null; "+
			"Value 'x' at 'records.2.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})")
		f("PutRecords", `{"StreamName":"v","Records":[`+strings.Repeat(`{"PartitionKey":"a","Data":""},`, 500)+`{"PartitionKey":"a","Data":""}]}`, wire.Validation,
			// AWS quotes the whole list; shardlog quotes its first KiB, so
			// that no request makes the message large (issue 14).
			"1 validation error detected: Value '"+("[" + strings.Repeat("PutRecordsRequestEntry(Data=java.nio.HeapByteBuffer[pos=0 lim=0 cap=0], PartitionKey=a), ", 500))[:wire.MaxQuotedBytes-3]+
				"...' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500")
		f("GetShardIterator", `{}`, wire.Validation, "2 validation errors detected: "+
			"Value null at 'shardId' failed to satisfy constraint: Member must not be null; "+
			"Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null")
		f("GetShardIterator", `{"StreamName":"v","ShardId":"shardId-000000000000","ShardIteratorType":"NEWEST"}`, wire.Validation,
			"1 validation error detected: Value 'NEWEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]")
		f("GetShardIterator", `{"StreamName":"v","ShardId":"shardId-000000000007","ShardIteratorType":"LATEST"}`, wire.ResourceNotFound,
			"Shard shardId-000000000007 in stream v under account 000000000000 does not exist")
		f("GetShardIterator", `{"StreamName":"v","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER"}`, wire.InvalidArgument,
			"Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.")
		f("GetShardIterator", `{"StreamName":"v","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST","StartingSequenceNumber":"1"}`, wire.InvalidArgument,
			"Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified LATEST and also a StartingSequenceNumber.")
		f("GetShardIterator", `{"StreamName":"v","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"`+seq1+`"}`, wire.InvalidArgument,
			"Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000")
		f("GetShardIterator", `{"StreamName":"v","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"1`+strings.Repeat("0", 50)+`"}`, wire.InvalidArgument,
			"StartingSequenceNumber 1"+strings.Repeat("0", 50)+" used in GetShardIterator on shard shardId-000000000000 in stream v under account 000000000000 is invalid.")
		f("GetShardIterator", `{"StreamName":"v","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP"}`, wire.InvalidArgument,
			"Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		f("GetRecords", `{"Limit":0}`, wire.Validation, "2 validation errors detected: "+
			"Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; "+
			"Value null at 'shardIterator' failed to satisfy constraint: Member must not be null")
		f("GetRecords", `{"Limit":10001,"ShardIterator":"`+strings.Repeat("A", 513)+`"}`, wire.Validation, "2 validation errors detected: "+
			"Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000; "+
			"Value '"+strings.Repeat("A", 513)+"' at 'shardIterator' failed to satisfy constraint: Member must have length less than or equal to 512")
	})
	// A short shard id is accepted as AWS accepts it.
	out, err := e.clients[0].sdk.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("v"), ShardId: aws.String("1"), ShardIteratorType: types.ShardIteratorTypeLatest})
	if err != nil || out.ShardIterator == nil {
		t.Fatalf("short shard id: %v", err)
	}
}

func TestRestartKeepsDataAndIterators(t *testing.T) {
	e := newEnv(t)
	e.createStream("durable", 3)
	c := e.clients[0]
	var entries []types.PutRecordsRequestEntry
	for i := 0; i < 50; i++ {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte{byte(i), 0, byte(i)}})
	}
	pr, err := c.sdk.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("durable"), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	id := *pr.Records[0].ShardId
	it := iter(t, c, "durable", id, types.ShardIteratorTypeTrimHorizon, nil, nil)
	e.restart()
	for _, c := range e.clients {
		for _, start := range []string{it, iter(t, c, "durable", id, types.ShardIteratorTypeTrimHorizon, nil, nil)} {
			got := readAll(t, c, start)
			if len(got) != len(entries) {
				t.Fatalf("%s: %d records after restart, want %d", c.name, len(got), len(entries))
			}
			for i, r := range got {
				if !bytes.Equal(r.Data, entries[i].Data) || *r.SequenceNumber != *pr.Records[i].SequenceNumber {
					t.Fatalf("%s: record %d differs after restart", c.name, i)
				}
			}
		}
	}
}

func TestTenMiBRecords(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "huge-" + c.name
		if _, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1), MaxRecordSizeInKiB: aws.Int32(10240)}); err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte{0xfe, 0, 7}, (10<<20)/3+1)[: 10<<20-1 : 10<<20-1] // 10 MiB with the one-byte key
		if _, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: data}); err != nil {
			t.Fatal(err)
		}
		_, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("kk"), Data: data})
		wantAPIError(t, err, wire.InvalidArgument, "Record size of 10485761 bytes")
		got := readAll(t, c, iter(t, c, name, "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, nil, nil))
		if len(got) != 1 || !bytes.Equal(got[0].Data, data) {
			t.Fatalf("a 10 MiB record did not round-trip (%d records read)", len(got))
		}
	})
}
