package ops

import "github.com/shardlog/shardlog/server/wire"

type streamEncryptionInput struct {
	StreamName     *string
	EncryptionType *string
	KeyId          *string
	StreamARN      *string
}

// streamEncryption answers StartStreamEncryption (start) and
// StopStreamEncryption. The stream must be ACTIVE; it turns UPDATING for the
// store's UpdateDelay. EncryptionType must be KMS. There is no KMS here:
// records are stored as they are and any KeyId is accepted; the type and key
// are recorded and reported back by DescribeStream(Summary) and in
// PutRecord(s) responses (EncryptionType), as AWS reports them.
func (s *Service) streamEncryption(in *streamEncryptionInput, start bool) (*emptyOutput, error) {
	var v wire.Validator
	v.StreamName("streamName", in.StreamName)
	v.NotNull("encryptionType", in.EncryptionType != nil)
	v.Enum("encryptionType", in.EncryptionType, encryptionNone, encryptionKMS)
	v.NotNull("keyId", in.KeyId != nil)
	v.Str("keyId", in.KeyId, 1, 2048, nil)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if *in.EncryptionType != encryptionKMS {
		return nil, wire.Errorf(wire.InvalidArgument, "Encryption type %s is not supported; the only valid value is KMS.", *in.EncryptionType)
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	if start {
		err = st.SetEncryption(encryptionKMS, *in.KeyId)
	} else {
		err = st.SetEncryption(encryptionNone, "")
	}
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

// startStreamEncryption answers StartStreamEncryption.
func (s *Service) startStreamEncryption(in *streamEncryptionInput) (*emptyOutput, error) {
	return s.streamEncryption(in, true)
}

// stopStreamEncryption answers StopStreamEncryption.
func (s *Service) stopStreamEncryption(in *streamEncryptionInput) (*emptyOutput, error) {
	return s.streamEncryption(in, false)
}
