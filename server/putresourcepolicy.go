package server

import (
	"bytes"
	"encoding/json"
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
func (s *Server) putResourcePolicy(in *putResourcePolicyInput) (*emptyOutput, error) {
	var v validator
	v.notNull("resourceARN", in.ResourceARN != nil)
	v.resourceARN("resourceARN", in.ResourceARN)
	v.notNull("policy", in.Policy != nil)
	if err := v.err(); err != nil {
		return nil, err
	}
	st, err := s.resourceStream(*in.ResourceARN, needChange)
	if err != nil {
		return nil, err
	}
	if !isJSONObject(*in.Policy) {
		return nil, apiErrorf(errInvalidArgument, "Policy is not a valid JSON policy document.")
	}
	if _, err := parsePolicy([]byte(*in.Policy), policyResource); err != nil {
		return nil, apiErrorf(errInvalidArgument, "Policy is not a valid policy document: %s", err)
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
