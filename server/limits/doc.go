// Package limits is the limits emulator's state: AWS's per-shard
// throughput limits as token buckets (Limiter), the rolling-day count of
// UpdateShardCount calls, and the push allowance of one SubscribeToShard
// subscription (Allowance). Limits is its configuration; the zero value
// emulates nothing.
//
// It decides only whether something may happen now; the operations turn a
// refusal into AWS's error. It imports no other shardlog package: a shard
// is any comparable key (the server uses *shard.Shard).
package limits
