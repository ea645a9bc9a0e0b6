package ops

import "github.com/shardlog/shardlog/server/wire"

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
