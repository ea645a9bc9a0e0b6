package ops

import "github.com/shardlog/shardlog/server/wire"

// errDryRun is the answer to a request that would have succeeded but asked
// for a dry run. AWS answers it with status 400.
var errDryRun = &wire.APIError{Type: wire.DryRunOperation, Message: "Request would have succeeded, but the DryRun flag is set."}

// dryRun answers the DryRun member that the data-plane operations
// (PutRecord, PutRecords, GetRecords, GetShardIterator, SubscribeToShard)
// carry. AWS runs every check of the real operation (validation, the
// resource lookup, argument checks) and then, instead of acting, answers
// DryRunOperationException; a request that fails a check gets that check's
// error as usual. So call it last, after every check and right before the
// first side effect:
//
//	if err := dryRun(in.DryRun); err != nil {
//		return nil, err
//	}
//
// It returns nil when flag is absent or false.
func dryRun(flag *bool) error {
	if flag != nil && *flag {
		return errDryRun
	}
	return nil
}
