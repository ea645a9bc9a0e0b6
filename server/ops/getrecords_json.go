package ops

// DecodeJSON decodes GetRecords' body ({"ShardIterator":..,"Limit":..,
// "StreamARN":..}) without reflection or allocation: a consumer polling at
// the tip sends it over and over, and encoding/json made most of that
// path's garbage (BenchmarkGetRecordsAtTip). Anything unusual takes the
// slow path, as for PutRecords.
func (in *getRecordsInput) DecodeJSON(body []byte) error {
	d := scanner{b: body}
	return d.object(func(key string) (int, bool) {
		switch key {
		case "ShardIterator":
			return 1, d.optStrIn(&in.ShardIterator, &in.iteratorSlot)
		case "StreamARN":
			return 2, d.optStrIn(&in.StreamARN, &in.arnSlot)
		case "Limit":
			return 4, d.optIntIn(&in.Limit, &in.limitSlot)
		}
		return 0, false
	})
}

// optIntIn consumes null (setting *p to nil) or a JSON integer of at most
// nine digits, which it stores in slot and points *p at. A longer number,
// a fraction or an exponent is not consumed: false sends the body to the
// slow path, which knows their rules.
func (d *scanner) optIntIn(p **int, slot *int) bool {
	if d.null() {
		*p = nil
		return true
	}
	neg := d.i < len(d.b) && d.b[d.i] == '-'
	i := d.i
	if neg {
		i++
	}
	start, n := i, 0
	for ; i < len(d.b) && i-start < 10 && d.b[i] >= '0' && d.b[i] <= '9'; i++ {
		n = n*10 + int(d.b[i]-'0')
	}
	digits := i - start
	if digits == 0 || digits > 9 || (digits > 1 && d.b[start] == '0') {
		return false
	}
	if i < len(d.b) && (d.b[i] == '.' || d.b[i] == 'e' || d.b[i] == 'E') {
		return false
	}
	if neg {
		n = -n
	}
	d.i = i
	*slot = n
	*p = slot
	return true
}
