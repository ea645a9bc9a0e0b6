package segment

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/shardlog/shardlog/index"
	"github.com/shardlog/shardlog/index/durable"
)

// Block layout of a compressed file, little-endian (also in doc.go):
//
//	off  size  field
//	 0    4    size      uint32  whole block in bytes, this word included; 0 = end
//	 4    4    crc       uint32  CRC-32C of bytes [8, size)
//	 8    4    rawLen    uint32  bytes of frames the payload decompresses to
//	12    4    records   uint32  frames in the block
//	16    8    firstSeq  uint64
//	24    8    firstMs   int64   arrival of the first frame
//	32         payload: rawLen bytes of v1 frames, compressed with the header's codec
const (
	blockHeadSize = 32
	// blockTargetBytes is the raw size at which Compress closes a block; a
	// block always holds at least one whole frame.
	blockTargetBytes = 128 << 10
)

// block is one decompressed block, immutable and shared by readers.
type block struct {
	view *view
	off  int64  // of the block in the file
	size int64  // of the compressed block in the file
	raw  []byte // frames
}

var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic("BUG: zstd encoder: " + err.Error())
		}
		return e
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
		if err != nil {
			panic("BUG: zstd decoder: " + err.Error())
		}
		return d
	})
)

func compress(c Compression, dst, raw []byte) []byte {
	if c == Zstd {
		return zstdEncoder().EncodeAll(raw, dst)
	}
	// s2.Encode writes at the start of its dst, so give it the free tail.
	n := s2.MaxEncodedLen(len(raw))
	dst = slices.Grow(dst, n)
	enc := s2.Encode(dst[len(dst):len(dst)+n], raw)
	return dst[:len(dst)+len(enc)]
}

func decompress(c Compression, payload []byte, rawLen int) ([]byte, error) {
	var out []byte
	var err error
	if c == Zstd {
		out, err = zstdDecoder().DecodeAll(payload, make([]byte, 0, rawLen))
	} else {
		out, err = s2.Decode(make([]byte, rawLen), payload)
	}
	if err == nil && len(out) != rawLen {
		err = fmt.Errorf("decompressed %d bytes, header says %d", len(out), rawLen)
	}
	return out, err
}

// blockHead is the decoded header of a block.
type blockHead struct {
	size     int64
	rawLen   int
	firstSeq uint64
	firstMs  int64
}

// blockAt decodes the block header at off of a compressed mapping, checking
// lengths but not the CRC. size 0 with a nil error is the end.
func blockAt(m []byte, off int64) (blockHead, error) {
	b := m[off:]
	if len(b) < 4 || binary.LittleEndian.Uint32(b) == 0 {
		return blockHead{}, nil
	}
	h := blockHead{size: int64(binary.LittleEndian.Uint32(b))}
	if h.size < blockHeadSize || h.size > int64(len(b)) {
		return blockHead{}, errors.New("block size out of range")
	}
	h.rawLen = int(binary.LittleEndian.Uint32(b[8:]))
	h.firstSeq = binary.LittleEndian.Uint64(b[16:])
	h.firstMs = int64(binary.LittleEndian.Uint64(b[24:]))
	return h, nil
}

// openCompressed finishes Open for a compressed segment. The index must have
// exactly one entry per block; if it does not (a crash between the renames
// of Compress) it is rebuilt from the block headers.
func (s *Segment) openCompressed(v *view, h header, size int64) (err error) {
	v.compressed, v.codec = true, h.codec
	if v.mapping, err = mapFile(v.file, size, false); err != nil {
		return err
	}
	var want []index.Entry
	for off := int64(headerSize); off < size; {
		bh, err := blockAt(v.mapping, off)
		if err != nil {
			return &CorruptError{Path: s.path, Off: off, Reason: err.Error()}
		}
		if bh.size == 0 {
			break
		}
		want = append(want, index.Entry{Seq: bh.firstSeq, Off: uint64(off), TimeMs: bh.firstMs})
		off += bh.size
	}
	if v.idx, err = s.openIndex(len(want)); err != nil {
		return err
	}
	if !sameEntries(v.idx, want) {
		s.log.Warn().Str("path", s.idxPath).Msg("rebuilding the index of a compressed segment")
		if err := v.idx.Truncate(0); err != nil {
			return err
		}
		for _, e := range want {
			if err := v.idx.Append(e); err != nil {
				return fmt.Errorf("rebuild index: %w", err)
			}
		}
	}
	if err := v.idx.Seal(); err != nil {
		return err
	}
	s.nextSeq.Store(h.nextSeq)
	s.lastTimeMs.Store(h.lastMs)
	if len(want) > 0 {
		s.firstTimeMs.Store(want[0].TimeMs)
	}
	s.sealed.Store(true)
	s.cur.Store(v)
	return nil
}

func sameEntries(idx *index.Index, want []index.Entry) bool {
	if idx.Len() != len(want) {
		return false
	}
	for i, e := range want {
		if idx.Entry(i) != e {
			return false
		}
	}
	return true
}

// loadBlock returns the decompressed block at off, from the one-block cache
// when a sequential reader just decoded it.
func (s *Segment) loadBlock(v *view, off int64) (*block, error) {
	if b := s.cache.Load(); b != nil && b.view == v && b.off == off {
		return b, nil
	}
	bh, err := blockAt(v.mapping, off)
	if err != nil || bh.size == 0 {
		reason := "missing block"
		if err != nil {
			reason = err.Error()
		}
		return nil, &CorruptError{Path: s.path, Off: off, Reason: reason}
	}
	b := v.mapping[off : off+bh.size]
	if binary.LittleEndian.Uint32(b[4:]) != crc32.Checksum(b[8:], castagnoli) {
		return nil, &CorruptError{Path: s.path, Off: off, Reason: "block crc mismatch"}
	}
	raw, err := decompress(v.codec, b[blockHeadSize:], bh.rawLen)
	if err != nil {
		return nil, &CorruptError{Path: s.path, Off: off, Reason: "decompress: " + err.Error()}
	}
	blk := &block{view: v, off: off, size: bh.size, raw: raw}
	s.cache.Store(blk)
	return blk, nil
}

func (s *Segment) readBlocks(v *view, c *collector, dst []Record) ([]Record, error) {
	off := int64(headerSize)
	if e, ok := v.idx.LookupSeq(c.seq); ok {
		off = int64(e.Off)
	}
	end := int64(len(v.mapping))
	for off < end && !c.done {
		if bh, err := blockAt(v.mapping, off); err == nil && bh.size == 0 {
			break
		}
		blk, err := s.loadBlock(v, off)
		if err != nil {
			return dst, err
		}
		if dst, _, err = c.frames(blk.raw, 0, off, dst); err != nil {
			return dst, err
		}
		off += blk.size
	}
	return dst, nil
}

func (s *Segment) seekBlocks(v *view, off int64, ms int64) (uint64, bool, error) {
	end := int64(len(v.mapping))
	for off < end {
		if bh, err := blockAt(v.mapping, off); err == nil && bh.size == 0 {
			break
		}
		blk, err := s.loadBlock(v, off)
		if err != nil {
			return 0, false, err
		}
		if seq, ok, err := seekFrames(blk.raw, 0, ms, off, s.path); ok || err != nil {
			return seq, ok, err
		}
		off += blk.size
	}
	return 0, false, nil
}

// Compress rewrites a sealed segment into compressed blocks with
// Options.Compression (a no-op for None or an already compressed segment).
// The new file is written as <base>.log.tmp, fsynced and renamed over the
// old one, then the index likewise, then the directory is fsynced; a crash
// leaves either the old or the new file, and a stray .tmp that List removes.
// Every frame is CRC-checked first: a corrupt segment is not compressed.
// Readers that loaded the old mapping keep it until no reader remains.
// Call it from the owner goroutine; it is safe concurrently with readers.
func (s *Segment) Compress() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.cur.Load()
	switch {
	case v == nil || s.closed.Load():
		return fmt.Errorf("compress segment %s: %w", s.path, ErrClosed)
	case !s.sealed.Load():
		return fmt.Errorf("compress segment %s: %w", s.path, ErrNotSealed)
	case s.readOnly:
		return fmt.Errorf("compress segment %s: %w", s.path, ErrReadOnly)
	case s.opts.Compression == None || v.compressed:
		return nil
	}
	start := time.Now()
	if err := s.opts.fault("compress"); err != nil {
		return fmt.Errorf("compress segment %s: %w", s.path, err)
	}
	nv, err := s.writeCompressed(v)
	if err != nil {
		return fmt.Errorf("compress segment %s: %w", s.path, err)
	}
	oldSize := s.end.Load()
	s.cur.Store(nv)          // s.end keeps the plain size: readers of the old view use it
	s.old = append(s.old, v) // after the swap: see releaseOldLocked
	s.hasOld.Store(true)
	s.releaseOldLocked()
	s.log.Info().Str("codec", s.opts.Compression.String()).Int64("bytes", oldSize).
		Int("compressed_bytes", len(nv.mapping)).Dur("took", time.Since(start)).Msg("compressed segment")
	return nil
}

// writeCompressed writes and installs the compressed files and returns
// their view.
func (s *Segment) writeCompressed(v *view) (_ *view, err error) {
	m := v.mapping[:s.end.Load()]
	tmp, idxTmp := s.path+".tmp", s.idxPath+".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
			_ = os.Remove(idxTmp)
		}
	}()
	h := header{flags: flagCompressed, base: s.base, createdNs: s.created.UnixNano(),
		codec: s.opts.Compression, nextSeq: s.nextSeq.Load(), lastMs: s.lastTimeMs.Load()}
	var hb [headerSize]byte
	h.put(hb[:])
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := w.Write(hb[:]); err != nil {
		return nil, err
	}
	var (
		entries []index.Entry
		off     = int64(headerSize)
		buf     []byte
		c       = collector{path: s.path}
	)
	for from := headerSize; from < len(m); {
		to, records := from, 0
		var first Record
		for to < len(m) && (records == 0 || to-from < blockTargetBytes) {
			var r Record
			size, reason := decodeFrame(m[to:], &r)
			if size == 0 {
				return nil, c.corrupt(to, -1, reason)
			}
			if records == 0 {
				first = r
			}
			to += size
			records++
		}
		buf = append(buf[:0], make([]byte, blockHeadSize)...)
		buf = compress(s.opts.Compression, buf, m[from:to])
		binary.LittleEndian.PutUint32(buf[0:], uint32(len(buf)))
		binary.LittleEndian.PutUint32(buf[8:], uint32(to-from))
		binary.LittleEndian.PutUint32(buf[12:], uint32(records))
		binary.LittleEndian.PutUint64(buf[16:], first.Seq)
		binary.LittleEndian.PutUint64(buf[24:], uint64(first.ArrivalMs))
		binary.LittleEndian.PutUint32(buf[4:], crc32.Checksum(buf[8:], castagnoli))
		if _, err := w.Write(buf); err != nil {
			return nil, err
		}
		entries = append(entries, index.Entry{Seq: first.Seq, Off: uint64(off), TimeMs: first.ArrivalMs})
		off += int64(len(buf))
		from = to
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("fsync %s: %w", tmp, err)
	}
	idx, err := index.Open(idxTmp, len(entries))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := idx.Append(e); err != nil {
			_ = idx.Close()
			return nil, fmt.Errorf("index block: %w", err)
		}
	}
	if err := idx.Seal(); err != nil {
		_ = idx.Close()
		return nil, err
	}
	if err := idx.Close(); err != nil {
		return nil, err
	}
	// The data file first: a crash before the index rename leaves a
	// compressed file with the old index, which Open detects and rebuilds.
	if err := os.Rename(tmp, s.path); err != nil {
		return nil, err
	}
	if err := os.Rename(idxTmp, s.idxPath); err != nil {
		return nil, err
	}
	if err := durable.SyncDir(s.dir); err != nil {
		return nil, err
	}
	nv := &view{file: f, compressed: true, codec: s.opts.Compression}
	if nv.mapping, err = mapFile(f, off, false); err != nil {
		return nil, err
	}
	if nv.idx, err = index.Open(s.idxPath, 0); err != nil {
		_ = nv.mapping.UnsafeUnmap()
		return nil, err
	}
	if err := nv.idx.Seal(); err != nil {
		_ = nv.close()
		return nil, err
	}
	if err := nv.dropFile(); err != nil {
		_ = nv.close()
		return nil, err
	}
	return nv, nil
}
