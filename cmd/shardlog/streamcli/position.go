package streamcli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// from is where tail starts, as --from says.
type from struct {
	kind types.ShardIteratorType // TRIM_HORIZON, LATEST, AT_TIMESTAMP or AFTER_SEQUENCE_NUMBER
	at   time.Time               // AT_TIMESTAMP's time
	seq  string                  // AFTER_SEQUENCE_NUMBER's sequence number
}

// parseFrom parses --from: trim-horizon, latest, at-timestamp=T (RFC 3339,
// or seconds since the epoch as AWS's CLI takes them) or after=SEQ.
func parseFrom(s string) (from, error) {
	name, arg, hasArg := strings.Cut(s, "=")
	switch {
	case name == "trim-horizon" && !hasArg:
		return from{kind: types.ShardIteratorTypeTrimHorizon}, nil
	case name == "latest" && !hasArg:
		return from{kind: types.ShardIteratorTypeLatest}, nil
	case name == "at-timestamp" && hasArg:
		t, err := parseTimestamp(arg)
		if err != nil {
			return from{}, fmt.Errorf("--from at-timestamp: %w", err)
		}
		return from{kind: types.ShardIteratorTypeAtTimestamp, at: t}, nil
	case name == "after" && arg != "":
		for _, c := range arg {
			if c < '0' || c > '9' {
				return from{}, fmt.Errorf("--from after=%s: a sequence number is decimal digits", arg)
			}
		}
		return from{kind: types.ShardIteratorTypeAfterSequenceNumber, seq: arg}, nil
	}
	return from{}, fmt.Errorf("--from %q: want trim-horizon, latest, at-timestamp=TIME or after=SEQUENCE_NUMBER", s)
}

// parseTimestamp parses an RFC 3339 time or seconds since the epoch (with
// a fraction).
func parseTimestamp(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		sec := int64(secs)
		return time.Unix(sec, int64((secs-float64(sec))*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2006-01-02T15:04:05Z) nor seconds since the epoch", s)
}

// position is where a reader of one shard starts.
type position struct {
	kind types.ShardIteratorType
	at   time.Time
	seq  string
}

// iteratorInput is the GetShardIterator request for pos on shard id.
func (pos position) iteratorInput(stream, id string) *kinesis.GetShardIteratorInput {
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(id), ShardIteratorType: pos.kind}
	switch pos.kind {
	case types.ShardIteratorTypeAtTimestamp:
		in.Timestamp = aws.Time(pos.at)
	case types.ShardIteratorTypeAfterSequenceNumber, types.ShardIteratorTypeAtSequenceNumber:
		in.StartingSequenceNumber = aws.String(pos.seq)
	}
	return in
}
