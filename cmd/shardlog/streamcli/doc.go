// Package streamcli holds shardlog's commands for working with streams
// from a terminal, for any Kinesis endpoint (shardlog or AWS): tail
// follows a stream and prints its records one per line, put sends lines
// as records, and streams creates, lists, describes and deletes streams.
// Commands returns them for the root command.
//
// # Endpoint and credentials
//
// --endpoint defaults to $AWS_ENDPOINT_URL_KINESIS, then $AWS_ENDPOINT_URL,
// then http://127.0.0.1:4567. Credentials and region come from the standard
// AWS chain (environment, shared config and credentials files, SSO,
// container and instance roles), with --region taking precedence. Against
// a loopback endpoint the instance metadata service is not asked, and when
// the chain yields no credentials or region the commands use dummy
// credentials and us-east-1, which a local shardlog without auth accepts.
//
// # Ordering
//
// put sends one PutRecords call at a time, in input order, and retries the
// records the service refuses (throttling, internal failures) before it
// sends the next call. Records with the same partition key thus land in
// input order, except when one call carries several of them and the
// service refuses an earlier one while it accepts a later one: the retried
// record then lands after it. put counts these and warns in its summary;
// put --ordered prevents them by sending at most one record per partition
// key in each call.
//
// tail prints the records of each shard in sequence-number order. It
// starts reading a child shard (after a split or merge) only once its
// parents are read to their end, so records with the same partition key
// print in the order they were stored, across resharding. Records of
// different shards interleave in the order they were read.
//
// # JSON lines
//
// tail --format json prints one object per record with the fields shardId,
// sequenceNumber, partitionKey, arrivalTime (RFC 3339 with nanoseconds,
// UTC), dataEncoding and data. dataEncoding is "text" when the data is
// valid UTF-8 and data holds it as a string, "base64" otherwise.
package streamcli
