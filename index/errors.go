package index

import "errors"

// Errors returned by Append.
var (
	// ErrFull is returned by Append when the index already holds as many
	// entries as its file has room for. The caller may keep writing data
	// without index entries (the index is sparse and only speeds up lookups).
	ErrFull = errors.New("index: full")

	// ErrOutOfOrder is returned by Append when the new entry does not
	// strictly follow the last one: its Seq or Off is not greater than the
	// last entry's (the first entry needs Off > 0), or its TimeMs is smaller.
	// The same rule decides where the valid entries end when a file is
	// opened, so an out-of-order entry could never be read back.
	ErrOutOfOrder = errors.New("index: entry out of order")
)

// Errors returned by writers once the index has changed state.
var (
	// ErrSealed is returned by Append and Truncate after Seal.
	ErrSealed = errors.New("index: sealed")

	// ErrClosed is returned by Sync, Seal, Append and Truncate after Close
	// or Remove.
	ErrClosed = errors.New("index: closed")
)
