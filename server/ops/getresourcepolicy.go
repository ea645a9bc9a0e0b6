package ops

import "github.com/shardlog/shardlog/server/wire"

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
