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
// policy (package policy), Conditions included, so that what is stored is what is
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

// noPolicy is the policy document GetResourcePolicy returns for a resource
// without a policy: an empty JSON object (the Policy member is required).
const noPolicy = "{}"

type getResourcePolicyInput struct {
	ResourceARN *string
}

type getResourcePolicyOutput struct {
	Policy string
}

// getResourcePolicy answers GetResourcePolicy: the policy document attached
// to a stream, or "{}" when there is none.
func (s *Service) getResourcePolicy(in *getResourcePolicyInput) (*getResourcePolicyOutput, error) {
	var v wire.Validator
	v.NotNull("resourceARN", in.ResourceARN != nil)
	v.ResourceARN("resourceARN", in.ResourceARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.resourceStream(*in.ResourceARN, needAny)
	if err != nil {
		return nil, err
	}
	policy := st.ResourcePolicy()
	if policy == "" {
		policy = noPolicy
	}
	return &getResourcePolicyOutput{Policy: policy}, nil
}

type deleteResourcePolicyInput struct {
	ResourceARN *string
}

// deleteResourcePolicy answers DeleteResourcePolicy: it removes the policy
// attached to a stream; a stream without one is ResourceNotFoundException.
func (s *Service) deleteResourcePolicy(in *deleteResourcePolicyInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("resourceARN", in.ResourceARN != nil)
	v.ResourceARN("resourceARN", in.ResourceARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.resourceStream(*in.ResourceARN, needChange)
	if err != nil {
		return nil, err
	}
	if st.ResourcePolicy() == "" {
		return nil, wire.Errorf(wire.ResourceNotFound, "No resource policy found for resource %s.", *in.ResourceARN)
	}
	if err := st.SetResourcePolicy(""); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}
