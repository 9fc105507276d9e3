package coinflow

import "unicode/utf8"

// The grammar listDecoder reads by: JSON as RFC 8259 and encoding/json
// have it, with the shortcuts listDecoder takes (keys and strings of its
// fields without escapes) declining where a shortcut does not hold.

// What lookup finds besides a field.
const (
	unknownKey = -1 // no field's name: the value is skipped
	foldedKey  = -2 // a field's name but for case, which encoding/json would match
)

// maxSkipDepth bounds the nesting of skipped values; deeper ones (which
// encoding/json accepts up to 10,000) are left to encoding/json.
const maxSkipDepth = 64

// fieldSet marks the fields of an object already read (at most 64).
type fieldSet uint64

// object reads an object whose known keys are fields, calling value with
// the index of each known key to read its value; unknown keys' values are
// skipped, and a known key given twice declines.
func (d *listDecoder) object(fields []string, value func(field int) bool) bool {
	var seen fieldSet
	d.space()
	return d.eat('{') && d.items('}', func() bool {
		a, b, ok := d.key()
		if !ok || !d.colon() {
			return false
		}
		switch f := lookup(fields, d.data[a:b]); {
		case f == foldedKey:
			return false
		case f == unknownKey:
			return d.skip(0)
		default:
			if seen&(1<<f) != 0 || !value(f) {
				return false
			}
			seen |= 1 << f
			return true
		}
	})
}

// items reads the elements of an array or the members of an object whose
// opening bracket has been read, up to close: elem reads one, and commas
// separate them.
func (d *listDecoder) items(close byte, elem func() bool) bool {
	d.space()
	if d.eat(close) {
		return true
	}
	for {
		if !elem() {
			return false
		}
		d.space()
		if d.eat(close) {
			return true
		}
		if !d.eat(',') {
			return false
		}
		d.space()
	}
}

// colon reads the colon after a key, with the white space around it.
func (d *listDecoder) colon() bool {
	d.space()
	if !d.eat(':') {
		return false
	}
	d.space()
	return true
}

// lookup is the index of key in fields, or unknownKey or foldedKey.
func lookup(fields []string, key []byte) int {
	for i, f := range fields {
		if string(key) == f {
			return i
		}
	}
	for _, f := range fields {
		if asciiEqualFold(f, key) {
			return foldedKey
		}
	}
	return unknownKey
}

func asciiEqualFold(s string, b []byte) bool {
	if len(s) != len(b) {
		return false
	}
	for i := range len(s) {
		x, y := s[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// key reads an object key: a string of ASCII without escapes.
func (d *listDecoder) key() (a, b int, ok bool) {
	if !d.eat('"') {
		return 0, 0, false
	}
	a = d.pos
	for ; d.pos < len(d.data); d.pos++ {
		switch c := d.data[d.pos]; {
		case c == '"':
			d.pos++
			return a, d.pos - 1, true
		case c < 0x20 || c == '\\' || c >= utf8.RuneSelf:
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// plain reads a string without escapes, of valid UTF-8, and returns the
// bounds of its contents.
func (d *listDecoder) plain() (a, b int, ok bool) {
	if !d.eat('"') {
		return 0, 0, false
	}
	a = d.pos
	ascii := true
	for ; d.pos < len(d.data); d.pos++ {
		switch c := d.data[d.pos]; {
		case c == '"':
			d.pos++
			if !ascii && !utf8.Valid(d.data[a:d.pos-1]) {
				return 0, 0, false // encoding/json would replace the bad bytes
			}
			return a, d.pos - 1, true
		case c < 0x20 || c == '\\':
			return 0, 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return 0, 0, false
}

// skip reads any JSON value, checking it as encoding/json does.
func (d *listDecoder) skip(depth int) bool {
	if d.pos >= len(d.data) || depth > maxSkipDepth {
		return false
	}
	switch c := d.data[d.pos]; {
	case c == '"':
		return d.skipString()
	case c == '{':
		d.pos++
		return d.items('}', func() bool { return d.skipString() && d.colon() && d.skip(depth+1) })
	case c == '[':
		d.pos++
		return d.items(']', func() bool { return d.skip(depth + 1) })
	case c == '-' || ('0' <= c && c <= '9'):
		_, _, ok := d.num()
		return ok
	}
	return d.literal("true") || d.literal("false") || d.literal("null")
}

// skipString reads any valid JSON string (escapes checked; bytes past
// ASCII are not, as encoding/json replaces bad ones rather than failing).
func (d *listDecoder) skipString() bool {
	if !d.eat('"') {
		return false
	}
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		d.pos++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if d.pos >= len(d.data) {
				return false
			}
			e := d.data[d.pos]
			d.pos++
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if d.pos+4 > len(d.data) {
					return false
				}
				for _, h := range d.data[d.pos : d.pos+4] {
					if !isHex(h) {
						return false
					}
				}
				d.pos += 4
			default:
				return false
			}
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// num reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *listDecoder) num() (a, b int, ok bool) {
	a = d.pos
	d.eat('-')
	switch {
	case d.eat('0'):
	case d.pos < len(d.data) && '1' <= d.data[d.pos] && d.data[d.pos] <= '9':
		d.digits()
	default:
		return 0, 0, false
	}
	if d.eat('.') && !d.digits() {
		return 0, 0, false
	}
	if d.eat('e') || d.eat('E') {
		if !d.eat('+') {
			d.eat('-')
		}
		if !d.digits() {
			return 0, 0, false
		}
	}
	return a, d.pos, true
}

// digits reads one digit or more.
func (d *listDecoder) digits() bool {
	from := d.pos
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > from
}

// literal reads lit if it comes next.
func (d *listDecoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// eat reads c if it comes next.
func (d *listDecoder) eat(c byte) bool {
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

func (d *listDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}
