// Package ops is the Kinesis Data Streams API: its 45 operations over a
// shard.Store, each with its validation in AWS's words and order, its
// authorization, its resource lookups and AWS's messages.
//
// # The table
//
// operations.go lists every operation in one literal table: its name, its
// IAM action, the class of its body limit and its handler. A handler is a
// plain method
//
//	func (s *Service) getRecords(in *getRecordsInput) (*getRecordsOutput, error)
//
// adapted by the generic Handler, which decodes the request (pooled), has
// it authorized, runs the method and encodes the response. Request and
// response structs carry the Kinesis member names, so the wire codecs
// (package wire) work over them; hot paths add hand-written JSON encoders
// and decoders (AppendJSON, DecodeJSON). SubscribeToShard is outside the
// table: its response is an event stream (SubscribeToShard, Pump).
//
// Files hold one operation, or a group of related ones: streams.go
// (create, delete, describe, list), streamsettings.go (retention, mode,
// record size, distribution, warm throughput, encryption), resharding.go,
// consumers.go, tags.go, policies.go (resource policies), account.go
// (limits and account settings), channels.go; the data plane keeps one
// file per operation (putrecord.go, putrecords.go, getrecords.go,
// getsharditerator.go, listshards.go, subscribetoshard.go).
//
// # State
//
// Everything the operations share lives in a Service the server creates:
// the store, the token sealers, the live subscriptions, the limits
// emulator, the metric registry and the compiled resource policies. There
// is no package-level mutable state, so two servers in one process never
// interfere. Account-wide limits are the store's (shard.AccountLimits),
// checked atomically with the change they guard.
//
// # Errors
//
// Handlers return a *wire.APIError for anything the client should see;
// ToAPIError maps shard's sentinel errors to Kinesis types and turns
// anything else into an InternalFailure, logged with its chain.
//
// # Not here
//
// Transports, routing by X-Amz-Target, signature verification and body
// reading are the host's (package server); this package imports none of
// it, only the leaves wire, sigv4, policy, limits and metrics, and shard.
package ops
