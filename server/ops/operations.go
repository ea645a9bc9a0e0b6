package ops

import (
	"reflect"
	"strings"
	"sync"

	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"
	"github.com/shardlog/shardlog/server/wire"
)

// TargetPrefix is the service part of every X-Amz-Target.
const TargetPrefix = "Kinesis_20131202."

// table lists every Kinesis operation the API serves, in alphabetical
// order: its name as in X-Amz-Target after TargetPrefix, the IAM action
// policies judge it by, the class of its body limit, and its handler (one
// file per operation or per group of related operations). SubscribeToShard
// is the one operation outside it: its response is a stream
// (subscribetoshard.go, SubscribeOp). The table is built once and never
// written.
var table = []Spec{
	{"AddTagsToStream", "kinesis:AddTagsToStream", ControlBody, Handler((*Service).addTagsToStream)},
	{"CreateChannel", "kinesis:CreateChannel", ControlBody, Handler((*Service).createChannel)},
	{"CreateStream", "kinesis:CreateStream", ControlBody, Handler((*Service).createStream)},
	{"DecreaseStreamRetentionPeriod", "kinesis:DecreaseStreamRetentionPeriod", ControlBody, Handler((*Service).decreaseStreamRetentionPeriod)},
	{"DeleteChannel", "kinesis:DeleteChannel", ControlBody, Handler((*Service).deleteChannel)},
	{"DeleteResourcePolicy", "kinesis:DeleteResourcePolicy", ControlBody, Handler((*Service).deleteResourcePolicy)},
	{"DeleteStream", "kinesis:DeleteStream", ControlBody, Handler((*Service).deleteStream)},
	{"DeregisterStreamConsumer", "kinesis:DeregisterStreamConsumer", ControlBody, Handler((*Service).deregisterStreamConsumer)},
	{"DescribeAccountSettings", "kinesis:DescribeAccountSettings", ControlBody, Handler((*Service).describeAccountSettings)},
	{"DescribeChannel", "kinesis:DescribeChannel", ControlBody, Handler((*Service).describeChannel)},
	{"DescribeLimits", "kinesis:DescribeLimits", ControlBody, Handler((*Service).describeLimits)},
	{"DescribeStream", "kinesis:DescribeStream", ControlBody, Handler((*Service).describeStream)},
	{"DescribeStreamConsumer", "kinesis:DescribeStreamConsumer", ControlBody, Handler((*Service).describeStreamConsumer)},
	{"DescribeStreamSummary", "kinesis:DescribeStreamSummary", ControlBody, Handler((*Service).describeStreamSummary)},
	{"DisableEnhancedMonitoring", "kinesis:DisableEnhancedMonitoring", ControlBody, Handler((*Service).disableEnhancedMonitoring)},
	{"EnableEnhancedMonitoring", "kinesis:EnableEnhancedMonitoring", ControlBody, Handler((*Service).enableEnhancedMonitoring)},
	{"GetRecords", "kinesis:GetRecords", ControlBody, Handler((*Service).getRecords)},
	{"GetResourcePolicy", "kinesis:GetResourcePolicy", ControlBody, Handler((*Service).getResourcePolicy)},
	{"GetShardIterator", "kinesis:GetShardIterator", ControlBody, Handler((*Service).getShardIterator)},
	{"IncreaseStreamRetentionPeriod", "kinesis:IncreaseStreamRetentionPeriod", ControlBody, Handler((*Service).increaseStreamRetentionPeriod)},
	{"ListChannels", "kinesis:ListChannels", ControlBody, Handler((*Service).listChannels)},
	{"ListShards", "kinesis:ListShards", ControlBody, Handler((*Service).listShards)},
	{"ListStreamConsumers", "kinesis:ListStreamConsumers", ControlBody, Handler((*Service).listStreamConsumers)},
	{"ListStreams", "kinesis:ListStreams", ControlBody, Handler((*Service).listStreams)},
	{"ListTagsForResource", "kinesis:ListTagsForResource", ControlBody, Handler((*Service).listTagsForResource)},
	{"ListTagsForStream", "kinesis:ListTagsForStream", ControlBody, Handler((*Service).listTagsForStream)},
	{"MergeShards", "kinesis:MergeShards", ControlBody, Handler((*Service).mergeShards)},
	{"PutRecord", "kinesis:PutRecord", RecordsBody, Handler((*Service).putRecord)},
	{"PutRecords", "kinesis:PutRecords", RecordsBody, Handler((*Service).putRecords)},
	{"PutResourcePolicy", "kinesis:PutResourcePolicy", ControlBody, Handler((*Service).putResourcePolicy)},
	{"RegisterStreamConsumer", "kinesis:RegisterStreamConsumer", ControlBody, Handler((*Service).registerStreamConsumer)},
	{"RemoveTagsFromStream", "kinesis:RemoveTagsFromStream", ControlBody, Handler((*Service).removeTagsFromStream)},
	{"SplitShard", "kinesis:SplitShard", ControlBody, Handler((*Service).splitShard)},
	{"StartStreamEncryption", "kinesis:StartStreamEncryption", ControlBody, Handler((*Service).startStreamEncryption)},
	{"StopStreamEncryption", "kinesis:StopStreamEncryption", ControlBody, Handler((*Service).stopStreamEncryption)},
	{"TagResource", "kinesis:TagResource", ControlBody, Handler((*Service).tagResource)},
	{"UntagResource", "kinesis:UntagResource", ControlBody, Handler((*Service).untagResource)},
	{"UpdateAccountSettings", "kinesis:UpdateAccountSettings", ControlBody, Handler((*Service).updateAccountSettings)},
	{"UpdateChannel", "kinesis:UpdateChannel", ControlBody, Handler((*Service).updateChannel)},
	{"UpdateMaxRecordSize", "kinesis:UpdateMaxRecordSize", ControlBody, Handler((*Service).updateMaxRecordSize)},
	{"UpdateShardCount", "kinesis:UpdateShardCount", ControlBody, Handler((*Service).updateShardCount)},
	{"UpdateStreamMode", "kinesis:UpdateStreamMode", ControlBody, Handler((*Service).updateStreamMode)},
	{"UpdateStreamRecordDistributionStrategy", "kinesis:UpdateStreamRecordDistributionStrategy", ControlBody, Handler((*Service).updateStreamRecordDistributionStrategy)},
	{"UpdateStreamWarmThroughput", "kinesis:UpdateStreamWarmThroughput", ControlBody, Handler((*Service).updateStreamWarmThroughput)},
}

// Operations returns every operation of the table by X-Amz-Target
// ("Kinesis_20131202.PutRecords"). Each call builds a new map, which the
// caller owns.
func Operations() map[string]*Operation {
	m := make(map[string]*Operation, len(table))
	for _, spec := range table {
		target := TargetPrefix + spec.Name
		if _, dup := m[target]; dup {
			panic("BUG: operation listed twice: " + spec.Name)
		}
		m[target] = NewOperation(spec)
	}
	return m
}

// Spec is one entry of the operation table.
type Spec struct {
	Name   string // e.g. "PutRecords"
	Action string // IAM action, e.g. "kinesis:PutRecords"
	// Body bounds the request body: records bodies (PutRecord,
	// PutRecords) may be as large as the server allows, control bodies
	// up to its control limit.
	Body BodyClass
	// Call runs the operation (see CallFunc).
	Call CallFunc
}

// CallFunc decodes body with c, checks that cred, connected as peer, may
// run op on the resources the request names (nil cred: auth mode none),
// runs the handler and appends the encoded response to dst, or returns it
// as a stream when it is large (the caller writes, then closes it).
// Handler makes one from a typed handler.
type CallFunc func(s *Service, op *Operation, cred *sigv4.Credential, peer policy.Peer, c wire.Codec, body, dst []byte) ([]byte, *wire.Stream, error)

// Operation is an operation as requests are routed to it: its Spec and
// what is derived from it once. It is immutable.
type Operation struct {
	Spec
	lowerAction string // Action in lower case, as policies match it
}

// NewOperation returns the operation of spec.
func NewOperation(spec Spec) *Operation {
	return &Operation{Spec: spec, lowerAction: strings.ToLower(spec.Action)}
}

// BodyClass is the class of an operation's request body limit.
type BodyClass uint8

// The body classes.
const (
	ControlBody BodyClass = iota // control operations: a small limit
	RecordsBody                  // PutRecord, PutRecords: the server's body limit
)

// releaser is implemented by response structs that hold resources until
// they are encoded (GetRecords holds mapped segment memory). release runs
// after the response bytes are fully encoded.
type releaser interface{ release() }

// streamer is implemented by response structs that may be too large to
// encode at once: Stream returns their encoding in codec c as a stream,
// which then owns the struct (and releases it), or nil to encode it at
// once.
type streamer interface {
	Stream(c wire.Codec) *wire.Stream
}

// resetter is implemented by request structs that keep buffers across the
// requests of the handler's pool: reset empties the struct as zeroing it
// would, but keeps the buffers, and clears them so that nothing of the
// request stays reachable.
type resetter interface{ reset() }

// Handler adapts fn to an operation's Call. fn receives the decoded request
// and returns the response, or an error: an *APIError for anything the
// client should see (use apiErrorf and the err* type names), anything else
// becomes an InternalFailure (shard sentinels are mapped by toAPIError).
//
// In is the request struct: exported fields named and typed as the Kinesis
// members (pointers for optional scalars so that "absent" can be told from
// zero, []byte for blobs, wire.EpochTime for timestamps); it may implement
// wire.JSONDecoder and wire.CBORDecoder to skip reflection. It is pooled:
// fn must not keep it, or anything aliasing it, after returning. Out is the
// response struct, encoded by the codec after fn returns; it may implement
// wire.JSONAppender and wire.CBORAppender to skip reflection, streamer to
// be streamed when large, and releaser to free resources after encoding.
func Handler[In, Out any](fn func(s *Service, in *In) (*Out, error)) CallFunc {
	pool := &sync.Pool{New: func() any { return new(In) }}
	fields := fieldsOf(reflect.TypeFor[In]())
	return func(s *Service, op *Operation, cred *sigv4.Credential, peer policy.Peer, c wire.Codec, body, dst []byte) ([]byte, *wire.Stream, error) {
		in := pool.Get().(*In)
		defer func() {
			if r, ok := any(in).(resetter); ok {
				r.reset()
			} else {
				var zero In
				*in = zero
			}
			pool.Put(in)
		}()
		if err := c.Decode(body, in); err != nil {
			return dst, nil, err
		}
		if err := s.authorize(cred, op, in, fields, peer); err != nil {
			return dst, nil, err
		}
		out, err := fn(s, in)
		if err != nil {
			return dst, nil, err
		}
		if st, ok := any(out).(streamer); ok {
			if stream := st.Stream(c); stream != nil {
				return dst, stream, nil
			}
		}
		if r, ok := any(out).(releaser); ok {
			defer r.release()
		}
		if _, ok := any(out).(*emptyOutput); ok {
			// AWS answers operations without output with 200 and an
			// empty body, in the request's content type (emptyOutput).
			return dst, nil, nil
		}
		dst, err = c.Encode(dst, out)
		return dst, nil, err
	}
}
