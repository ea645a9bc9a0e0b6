// Package shard owns streams and their shards on top of segment files: the
// Store of a data directory, each Stream's metadata and routing table, each
// Shard's ordered segments and positions, resharding, retention (expiring
// old segments) and compression of sealed ones, group-commit syncing, tail
// notification, and Walk, the read-only view of a data directory that
// offline tools use.
//
// # On disk
//
//	<dir>/shardlog.meta                       JSON: format version, store id,
//	                                           iterator-signing secret, account settings
//	<dir>/resume.json                         JSON, after a clean Close only: where each shard
//	                                           resumes (see Positions); Open removes it
//	<dir>/streams/s_<name>/stream.json        JSON: stream metadata and shard list
//	<dir>/streams/s_<name>/shardId-NNNNNNNNNNNN/<base>.log|.idx   segments (package segment)
//
// Stream directory names keep lower-case letters, digits and "_.-" of the
// stream name and write an upper-case letter as '^' plus its lower case, so
// "." and ".." cannot escape and names that differ only in case cannot
// collide on case-insensitive file systems. Every metadata file is replaced
// atomically (temp file, fsync, rename, fsync directory). A stream is created
// in "<dir>.tmp" and renamed into place, and deleted by renaming it to
// "<dir>.<n>.deleting" before removal, so after a crash it is whole or gone;
// Open removes such leftovers. A reshard commits by rewriting stream.json
// after its children's directories exist; Open removes shard directories that
// stream.json does not list. Walk reads the same layout with the same
// schema and removes nothing.
//
// # Positions and sequence numbers
//
// Inside a shard a record's position (seq in identifiers) is a uint64
// counting from 0, increasing, and never reused: the active segment's file
// name carries the next position even after every older segment has
// expired. The decimal sequence number clients see (SequenceNumber) packs
// the shard's creation time, its index and the position (see
// FormatSequenceNumber), so it is decodable without a search and a number
// of another shard is recognisably foreign. Only the codec in seqnum.go
// turns one into the other; everything else in this package and below
// speaks positions.
//
// # Routing
//
// A record goes to the open shard whose inclusive hash-key range holds the
// MD5 of its partition key, read as a big-endian 128-bit integer, or its
// explicit hash key. CreateStream splits [0, 2^128-1] evenly.
//
// # Concurrency and lock order
//
//	Store.account  ->  Store.mu  ->  Stream.mu  ->  Shard.mu (by shard index when several)  ->  Shard.syncMu  ->  Shard.sealMu
//
// Store.account serialises the changes AccountLimits guard; the limit is
// checked under it, before Store.mu or Stream.mu is taken (the check reads
// every stream). Shard.expireMu is taken before Shard.mu by Expire and
// Compress only; Shard.prepMu (held while the next segment is created
// in the background) is taken after Shard.mu; Shard.waitMu and the store's committer.mu are leaves
// (nothing is synced under committer.mu; it only queues shards for the next
// round). Appends to one shard are serialised by Shard.mu;
// appends to different shards run in parallel. Readers take no lock: they
// load the published segment list (an atomic pointer to an immutable slice)
// and take a reference on each segment they read, so expiry can retire
// a segment under them and it is unmapped only after the last reference goes.
// Tail notification is a channel closed by the next append (TailChanged).
//
// A shard reopened by Open, or made by CreateStream, is dormant: it holds
// no file or mapping until its first append, read, seek or reshard loads its
// segments (Shard.loadMu, taken before Shard.mu and after Stream.mu), so
// start-up reads only stream.json files. A new shard's first segment file
// is created in the background by the preparer (prepare.go), in batches
// synced together, leaving the shard dormant; an append that comes first
// creates it itself, and reading a shard creates nothing. A loaded shard
// becomes dormant again when it has been neither written nor read for
// IdleShardTimeout, or, least recently used first, when more
// than MaxLoadedShards are loaded (resident.go): its data is synced as the
// fsync policy requires, its next position is kept in memory as a resume
// point (the header keeps its durable reservation, so the next load's
// first append flushes nothing), and its segments are retired (unmapped
// after their last reader). That pass only ever try-locks (Stream.mu for reading, then the
// shard's expireMu, loadMu, mu, syncMu and sealMu) and skips a busy shard.
// Expire loads a dormant shard only when the header of its
// oldest segment says it may hold expired records (the newest arrival time
// a sealed segment records, else the segment's creation time): record
// times, never file modification times.
//
// # Durability
//
// After Shard.Append returns, its records are in the page cache and
// survive kill -9. Under FsyncAlways Append and Stream.Put return only
// after a sync that covers them, through one store-wide group commit: an
// appender queues the shards it wrote to and waits for the next round, in
// which one goroutine syncs every queued shard (up to 16 at once: syncs of
// different files proceed in parallel on the device), raises each shard's
// durable mark, wakes its readers and then releases every appender of the
// round; appenders arriving meanwhile join the round after, which waits
// for the appenders just released to come back (at most half the last
// round's sync time, and 1 ms), so that busy rounds do not split in two. Readers stop
// at the durable mark and never wait for a sync, and no lock a reader
// takes is held across one. Under FsyncInterval the store syncs every
// shard with unsynced records in one such round per period; under
// FsyncNever only segment seals sync. The next segment is created, complete
// and named, in the background while the active one fills its last eighth,
// so a roll only switches to it and seals the full one in the background;
// a group-commit sync waits for that seal. The first failed write or sync makes the shard
// refuse appends (ErrSticky) until the store is reopened.
//
// Positions are never handed out twice, whatever a crash or power loss
// takes: before a position is handed out it is covered by a reservation
// in the active segment's header, made durable with one flush per
// reserveAhead positions and carried into every new segment's header. A
// start resumes at the last segment's reservation, unless a clean shutdown
// left a resume point for the shard (resume.json, removed durably by Open
// before any point is used, and trusted only while the segment's base and
// reservation are those it recorded): then at exactly the next position,
// below a reservation that is still durable. Positions grow but are not dense: besides
// a crash, a roll skips some, because the next segment is named before the
// active one is full and so starts above every position that one can
// still take. Readers step over the gaps.
//
// # Retention and compression
//
// Store.Expire, run every ExpireInterval, retires whole sealed segments
// whose newest record is older than the stream's retention, rolls active
// segments older than MaxSegmentAge so that idle data expires too, and
// drops closed shards whose records have all expired. Reads skip records
// past retention even before Expire has run. After each pass,
// Store.Compress rewrites the remaining sealed segments of loaded shards
// into compressed blocks when a codec is configured (segment.Compress). Raising the
// retention period records a trim horizon in stream.json (the old horizon):
// what had expired stays expired, as on AWS.
//
// The package knows nothing of HTTP, JSON wire shapes or authentication.
package shard
