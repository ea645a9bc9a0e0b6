package server

import (
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/shardlog/shardlog/shard"
)

// Kinesis error types, the "__type" of an error body. Handlers use these
// names, never string literals, so the status table below stays complete.
const (
	errValidation         = "ValidationException"
	errInvalidArgument    = "InvalidArgumentException"
	errResourceNotFound   = "ResourceNotFoundException"
	errResourceInUse      = "ResourceInUseException"
	errExpiredIterator    = "ExpiredIteratorException"
	errExpiredNextToken   = "ExpiredNextTokenException"
	errLimitExceeded      = "LimitExceededException"
	errThroughputExceeded = "ProvisionedThroughputExceededException"
	errSerialization      = "SerializationException"
	errUnknownOperation   = "UnknownOperationException"
	errAccessDenied       = "AccessDeniedException"
	errDryRunOperation    = "DryRunOperationException"
	errInternalFailure    = "InternalFailure"
	errServiceUnavailable = "ServiceUnavailable"
	// errRequestTimeout answers a client too slow to send its request
	// within ReadTimeout; the AWS SDKs retry it.
	errRequestTimeout = "RequestTimeout"
)

// errorStatus is the HTTP status of each error type. A type missing here is a
// bug, caught by TestErrorTable.
var errorStatus = map[string]int{
	errValidation:         http.StatusBadRequest,
	errInvalidArgument:    http.StatusBadRequest,
	errResourceNotFound:   http.StatusBadRequest,
	errResourceInUse:      http.StatusBadRequest,
	errExpiredIterator:    http.StatusBadRequest,
	errExpiredNextToken:   http.StatusBadRequest,
	errLimitExceeded:      http.StatusBadRequest,
	errThroughputExceeded: http.StatusBadRequest,
	errSerialization:      http.StatusBadRequest,
	errUnknownOperation:   http.StatusBadRequest,
	errAccessDenied:       http.StatusBadRequest,
	errDryRunOperation:    http.StatusBadRequest,
	errInternalFailure:    http.StatusInternalServerError,
	errServiceUnavailable: http.StatusServiceUnavailable,
	errRequestTimeout:     http.StatusRequestTimeout,
	// Authentication (sigv4.go): 400, as Kinesis answers them.
	errMissingToken:        http.StatusBadRequest,
	errIncompleteSignature: http.StatusBadRequest,
	errUnrecognizedClient:  http.StatusBadRequest,
	errInvalidSignature:    http.StatusBadRequest,
}

// APIError is a Kinesis error as the client sees it: a type from the table
// above and a message. Handlers return it (usually through apiErrorf) for
// every error the client should see; any other error becomes InternalFailure.
// APIErrors are immutable once made, so package-level ones may be shared.
type APIError struct {
	Type    string // the "__type", e.g. "ResourceNotFoundException"
	Message string // AWS's wording, shown to the client; may be empty

	status int // HTTP status overriding the table, for transport-level errors
}

// Error implements error.
func (e *APIError) Error() string { return e.Type + ": " + e.Message }

// maxMessageBytes bounds the message of an error response. Messages quote
// client input, each quoted value already bounded (quote); this is the
// last guard, so that no request can make an error body larger than a few
// KiB, whatever it sent (ten violations, each quoting at most
// maxQuotedBytes, fit).
const maxMessageBytes = 12 << 10

// message returns e.Message cut to maxMessageBytes on a character boundary.
func (e *APIError) message() string { return truncate(e.Message, maxMessageBytes) }

// messageKey is the key of the message in e's body. AWS's front end
// writes "Message" for a SerializationException and "message" for every
// other error, in JSON and in CBOR: kinesalite's tests record the
// SerializationException body as {__type, Message} (test/helpers.js
// assertSerialization) and the others as {__type, message}; LocalStack's
// AWS-validated snapshot of a CBOR ResourceNotFoundException
// (test_kinesis.py test_cbor_exceptions) has "message".
func (e *APIError) messageKey() string {
	if e.Type == errSerialization {
		return "Message"
	}
	return "message"
}

// truncate cuts s to at most n bytes on a character boundary, marking the
// cut with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// Status returns the HTTP status the error is sent with.
func (e *APIError) Status() int {
	if e.status != 0 {
		return e.status
	}
	if st, ok := errorStatus[e.Type]; ok {
		return st
	}
	return http.StatusBadRequest
}

// apiErrorf returns an APIError of type typ with a formatted message.
func apiErrorf(typ, format string, args ...any) *APIError {
	return &APIError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// internalFailure is what the client sees of an error we did not expect.
var internalFailure = &APIError{Type: errInternalFailure, Message: "An internal error occurred. Please retry."}

// toAPIError maps any error a handler returned to what the client sees:
// APIErrors pass through, shard sentinels get their Kinesis type with a
// generic message (handlers that know the stream or shard write AWS's exact
// message themselves), and anything else is an InternalFailure, logged here
// with its full chain so no path or Go error reaches the client.
func (s *Server) toAPIError(op string, err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	for _, m := range sentinelErrors {
		if errors.Is(err, m.err) {
			return &APIError{Type: m.typ, Message: m.msg}
		}
	}
	s.log.Error().Err(err).Str("op", op).Msg("internal failure")
	return internalFailure
}

// sentinelErrors maps shard sentinels to Kinesis errors, first match wins.
// ErrSticky and ErrFormat are deliberately absent: they are InternalFailures.
var sentinelErrors = []struct {
	err error
	typ string
	msg string
}{
	{shard.ErrStoreClosed, errServiceUnavailable, "Service is shutting down."},
	{shard.ErrStreamNotFound, errResourceNotFound, "Requested resource not found."},
	{shard.ErrShardNotFound, errResourceNotFound, "Requested resource not found."},
	{shard.ErrStreamExists, errResourceInUse, "Stream already exists."},
	{shard.ErrNotActive, errResourceInUse, "Stream is not currently ACTIVE or UPDATING."},
	{shard.ErrShardClosed, errResourceInUse, "Shard is closed."},
	{shard.ErrBadHashKey, errInvalidArgument, "Invalid hash key."},
	{shard.ErrBadSequenceNumber, errInvalidArgument, "Invalid sequence number."},
	{shard.ErrForeignSequenceNumber, errInvalidArgument, "Sequence number does not belong to this shard."},
	{shard.ErrNotAdjacent, errInvalidArgument, "Shards are not adjacent."},
	{shard.ErrBadSplitKey, errInvalidArgument, "NewStartingHashKey is not within the hash key range of the shard."},
	{shard.ErrBadShardCount, errInvalidArgument, "Invalid target shard count."},
	{shard.ErrBadRetention, errInvalidArgument, "Invalid retention period."},
	{shard.ErrTooLarge, errValidation, "Record is larger than the stream's maximum record size."},
	{shard.ErrLimitExceeded, errLimitExceeded, "Account limit exceeded."},
	{shard.ErrTooManyTags, errInvalidArgument, "Failed to add tags. The stream would have more than 50 tags."},
}

// corruptRecords is the InternalFailure a read that reached records damaged
// on disk answers with, and records it in /metrics. The message names the
// stream, the shard and the sequence numbers (never a file or offset, which
// go to the log with the full chain) and how to read on past them: an
// AFTER_SEQUENCE_NUMBER iterator at the last one. It returns nil when err
// is not such a read.
func (s *Server) corruptRecords(op string, st *shard.Stream, sh *shard.Shard, err error) *APIError {
	var ce *shard.CorruptError
	if !errors.As(err, &ce) {
		return nil
	}
	s.metrics.stream(st).corruptReads.Inc()
	first, last := sh.SequenceNumber(ce.First), sh.SequenceNumber(ce.Last)
	s.log.Error().Err(err).Str("op", op).Str("stream", st.Name()).Str("shard", sh.ID()).Str("seq", first).
		Msg("internal failure: corrupt records")
	what := "Record with sequence number " + first + " is"
	if ce.Last != ce.First {
		what = "Records with sequence numbers " + first + " through " + last + " are"
	}
	return apiErrorf(errInternalFailure, "%s corrupt on disk in shard %s of stream %s and cannot be read. "+
		"Read on with an AFTER_SEQUENCE_NUMBER iterator at sequence number %s.", what, sh.ID(), st.Name(), last)
}
