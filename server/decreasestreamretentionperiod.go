package server

// decreaseStreamRetentionPeriod answers DecreaseStreamRetentionPeriod; see
// setRetention.
func (s *Server) decreaseStreamRetentionPeriod(in *streamRetentionInput) (*emptyOutput, error) {
	return s.setRetention(in, false)
}
