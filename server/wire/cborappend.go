package wire

// Hand-written CBOR for the hot responses (GetRecords pages, whose records
// would otherwise be copied into a struct for fxamacker/cbor): the same
// bytes CBOR.Encode writes for the same shapes, in the encoder's
// preferred (shortest) heads. CBORAppender responses use them.

// CBORAppender is implemented by response structs that encode themselves
// in CBOR without reflection. The output must equal what CBOREncMode
// writes for the struct's wire shape.
type CBORAppender interface {
	AppendCBOR(dst []byte) []byte
}

// CBORDecoder is implemented by request structs on hot paths that decode
// the common, well-formed request without reflection. DecodeCBOR returns
// an error for anything it does not handle; the codec then decodes with
// CBORDecMode, which also words the errors. The result must equal
// CBORDecMode's for every input DecodeCBOR accepts (FuzzPutRecordsDecodeCBOR
// checks this). Decoded strings and blobs may alias body, which outlives
// the request struct.
type CBORDecoder interface {
	DecodeCBOR(body []byte) error
}

// CBOR major types.
const (
	CBORUint  = 0 << 5
	CBORNeg   = 1 << 5
	CBORBytes = 2 << 5
	CBORText  = 3 << 5
	CBORArray = 4 << 5
	CBORMap   = 5 << 5
	cborTag   = 6 << 5
)

// cborNull is the simple value null, which the encoder writes for a nil
// byte slice.
const cborNull = 0xf6

// AppendCBORHead appends the head of an item of major type major (one of
// the CBOR* constants) with argument n: a length, a count or a value.
func AppendCBORHead(dst []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(dst, major|byte(n))
	case n <= 0xff:
		return append(dst, major|24, byte(n))
	case n <= 0xffff:
		return append(dst, major|25, byte(n>>8), byte(n))
	case n <= 0xffffffff:
		return append(dst, major|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, major|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// CBORHeadLen is len(AppendCBORHead(nil, major, n)).
func CBORHeadLen(n uint64) int {
	switch {
	case n < 24:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffffff:
		return 5
	}
	return 9
}

// AppendCBORText appends s as a text string.
func AppendCBORText[S ~string | ~[]byte](dst []byte, s S) []byte {
	return append(AppendCBORHead(dst, CBORText, uint64(len(s))), s...)
}

// CBORTextLen is len(AppendCBORText(nil, s)) for len(s) == n.
func CBORTextLen(n int) int { return CBORHeadLen(uint64(n)) + n }

// AppendCBORBlob appends b as a byte string, or null when b is nil, as
// the encoder writes a []byte member.
func AppendCBORBlob(dst, b []byte) []byte {
	if b == nil {
		return append(dst, cborNull)
	}
	return append(AppendCBORHead(dst, CBORBytes, uint64(len(b))), b...)
}

// CBORBlobLen is len(AppendCBORBlob(nil, b)).
func CBORBlobLen(b []byte) int {
	if b == nil {
		return 1
	}
	return CBORTextLen(len(b))
}

// AppendCBORInt appends v as an integer.
func AppendCBORInt(dst []byte, v int64) []byte {
	if v < 0 {
		return AppendCBORHead(dst, CBORNeg, uint64(-1-v))
	}
	return AppendCBORHead(dst, CBORUint, uint64(v))
}

// CBORIntLen is len(AppendCBORInt(nil, v)).
func CBORIntLen(v int64) int {
	if v < 0 {
		return CBORHeadLen(uint64(-1 - v))
	}
	return CBORHeadLen(uint64(v))
}

// AppendCBOREpochMs appends a timestamp as EpochTime.MarshalCBOR writes
// it: tag 1 around epoch milliseconds.
func AppendCBOREpochMs(dst []byte, ms int64) []byte {
	return AppendCBORInt(append(dst, cborTag|1), ms)
}

// CBOREpochMsLen is len(AppendCBOREpochMs(nil, ms)).
func CBOREpochMsLen(ms int64) int { return 1 + CBORIntLen(ms) }
