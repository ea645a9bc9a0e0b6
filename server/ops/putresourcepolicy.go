package ops

import (
	"bytes"
	"encoding/json"

	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/wire"
)

type putResourcePolicyInput struct {
	ResourceARN *string
	Policy      *string
}

// putResourcePolicy answers PutResourcePolicy: it attaches a policy document
// to a stream, replacing any other. The document must compile as a resource
// policy (policy.go), Conditions included, so that what is stored is what is
// enforced under sigv4; Kinesis lists InvalidArgumentException as its answer
// to a bad argument here. GetResourcePolicy returns the document verbatim.
func (s *Service) putResourcePolicy(in *putResourcePolicyInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("resourceARN", in.ResourceARN != nil)
	v.ResourceARN("resourceARN", in.ResourceARN)
	v.NotNull("policy", in.Policy != nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.resourceStream(*in.ResourceARN, needChange)
	if err != nil {
		return nil, err
	}
	if !isJSONObject(*in.Policy) {
		return nil, wire.Errorf(wire.InvalidArgument, "Policy is not a valid JSON policy document.")
	}
	if _, err := policy.ParseResource([]byte(*in.Policy)); err != nil {
		return nil, wire.Errorf(wire.InvalidArgument, "Policy is not a valid policy document: %s", err)
	}
	if err := st.SetResourcePolicy(*in.Policy); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

// isJSONObject reports whether doc is one well-formed JSON object.
func isJSONObject(doc string) bool {
	b := bytes.TrimSpace([]byte(doc))
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}
