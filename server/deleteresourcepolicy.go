package server

type deleteResourcePolicyInput struct {
	ResourceARN *string
}

// deleteResourcePolicy answers DeleteResourcePolicy: it removes the policy
// attached to a stream; a stream without one is ResourceNotFoundException.
func (s *Server) deleteResourcePolicy(in *deleteResourcePolicyInput) (*emptyOutput, error) {
	var v validator
	v.notNull("resourceARN", in.ResourceARN != nil)
	v.resourceARN("resourceARN", in.ResourceARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	st, err := s.resourceStream(*in.ResourceARN, needChange)
	if err != nil {
		return nil, err
	}
	if st.ResourcePolicy() == "" {
		return nil, apiErrorf(errResourceNotFound, "No resource policy found for resource %s.", *in.ResourceARN)
	}
	if err := st.SetResourcePolicy(""); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}
