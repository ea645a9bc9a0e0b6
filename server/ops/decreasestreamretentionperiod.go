package ops

// decreaseStreamRetentionPeriod answers DecreaseStreamRetentionPeriod; see
// setRetention.
func (s *Service) decreaseStreamRetentionPeriod(in *streamRetentionInput) (*emptyOutput, error) {
	return s.setRetention(in, false)
}
