// Package sigv4 verifies AWS Signature Version 4 as Kinesis does, and
// checks the shape of the credentials a request carries when signatures
// are not verified (authform.go).
//
// Verification runs in two steps, in AWS's order: CheckHeaders checks
// everything the headers tell (scope, key, clock, signed headers) before
// the body is read, and Pending.Verify compares the signature over the
// body once it is. A Keyring holds the accepted keys (Credential), each
// with its identity policy and its cached signing key.
//
// It imports server/wire (its errors are wire.APIErrors) and server/policy
// (a Credential carries its policy and principal), and nothing of streams
// or the host: transports hand it their headers through the Headers
// interface (FastHeaders for fasthttp, HTTPHeaders for net/http).
package sigv4
