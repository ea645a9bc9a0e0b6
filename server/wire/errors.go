package wire

import (
	"fmt"
	"net/http"
	"unicode/utf8"
)

// Kinesis error types, the "__type" of an error body. Handlers use these
// names, never string literals, so the status table below stays complete.
const (
	Validation          = "ValidationException"
	InvalidArgument     = "InvalidArgumentException"
	ResourceNotFound    = "ResourceNotFoundException"
	ResourceInUse       = "ResourceInUseException"
	ExpiredIterator     = "ExpiredIteratorException"
	ExpiredNextToken    = "ExpiredNextTokenException"
	LimitExceeded       = "LimitExceededException"
	ThroughputExceeded  = "ProvisionedThroughputExceededException"
	Serialization       = "SerializationException"
	UnknownOperation    = "UnknownOperationException"
	AccessDenied        = "AccessDeniedException"
	DryRunOperation     = "DryRunOperationException"
	InternalFailureType = "InternalFailure"
	ServiceUnavailable  = "ServiceUnavailable"
	// RequestTimeout answers a client too slow to send its request
	// within ReadTimeout; the AWS SDKs retry it.
	RequestTimeout = "RequestTimeout"
)

// Authentication error types, as AWS's JSON services name them. All are
// answered with status 400, as Kinesis does (kinesalite's index.js records
// the same).
const (
	MissingToken        = "MissingAuthenticationTokenException"
	IncompleteSignature = "IncompleteSignatureException"
	UnrecognizedClient  = "UnrecognizedClientException"
	InvalidSignature    = "InvalidSignatureException"
)

// errorStatus is the HTTP status of each error type. A type missing here is a
// bug, caught by TestErrorTable.
var errorStatus = map[string]int{
	Validation:          http.StatusBadRequest,
	InvalidArgument:     http.StatusBadRequest,
	ResourceNotFound:    http.StatusBadRequest,
	ResourceInUse:       http.StatusBadRequest,
	ExpiredIterator:     http.StatusBadRequest,
	ExpiredNextToken:    http.StatusBadRequest,
	LimitExceeded:       http.StatusBadRequest,
	ThroughputExceeded:  http.StatusBadRequest,
	Serialization:       http.StatusBadRequest,
	UnknownOperation:    http.StatusBadRequest,
	AccessDenied:        http.StatusBadRequest,
	DryRunOperation:     http.StatusBadRequest,
	InternalFailureType: http.StatusInternalServerError,
	ServiceUnavailable:  http.StatusServiceUnavailable,
	RequestTimeout:      http.StatusRequestTimeout,
	// Authentication (package sigv4): 400, as Kinesis answers them.
	MissingToken:        http.StatusBadRequest,
	IncompleteSignature: http.StatusBadRequest,
	UnrecognizedClient:  http.StatusBadRequest,
	InvalidSignature:    http.StatusBadRequest,
}

// KnownType reports whether typ is an error type of the status table.
func KnownType(typ string) bool {
	_, ok := errorStatus[typ]
	return ok
}

// APIError is a Kinesis error as the client sees it: a type from the table
// above and a message. Handlers return it (usually through apiErrorf) for
// every error the client should see; any other error becomes InternalFailure.
// APIErrors are immutable once made, so package-level ones may be shared.
type APIError struct {
	Type    string // the "__type", e.g. "ResourceNotFoundException"
	Message string // AWS's wording, shown to the client; may be empty

	// HTTPStatus, when not 0, overrides the table: transport-level errors
	// (413, 403) have statuses of their own.
	HTTPStatus int
}

// Error implements error.
func (e *APIError) Error() string { return e.Type + ": " + e.Message }

// MaxMessageBytes bounds the message of an error response. Messages quote
// client input, each quoted value already bounded (quote); this is the
// last guard, so that no request can make an error body larger than a few
// KiB, whatever it sent (ten violations, each quoting at most
// maxQuotedBytes, fit).
const MaxMessageBytes = 12 << 10

// TruncatedMessage returns e.Message cut to MaxMessageBytes on a character boundary.
func (e *APIError) TruncatedMessage() string { return Truncate(e.Message, MaxMessageBytes) }

// MessageKey is the key of the message in e's body. AWS's front end
// writes "Message" for a SerializationException and "message" for every
// other error, in JSON and in CBOR: kinesalite's tests record the
// SerializationException body as {__type, Message} (test/helpers.js
// assertSerialization) and the others as {__type, message}; LocalStack's
// AWS-validated snapshot of a CBOR ResourceNotFoundException
// (test_kinesis.py test_cbor_exceptions) has "message".
func (e *APIError) MessageKey() string {
	if e.Type == Serialization {
		return "Message"
	}
	return "message"
}

// Truncate cuts s to at most n bytes on a character boundary, marking the
// cut with "...".
func Truncate(s string, n int) string {
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
	if e.HTTPStatus != 0 {
		return e.HTTPStatus
	}
	if st, ok := errorStatus[e.Type]; ok {
		return st
	}
	return http.StatusBadRequest
}

// Errorf returns an APIError of type typ with a formatted message.
func Errorf(typ, format string, args ...any) *APIError {
	return &APIError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// InternalFailure is what the client sees of an error we did not expect.
var InternalFailure = &APIError{Type: InternalFailureType, Message: "An internal error occurred. Please retry."}
