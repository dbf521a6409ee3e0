package autobahn

import (
	"errors"
	"fmt"
)

// A naive DEFLATE decoder (RFC 1951), for checking what the testee
// compressed rather than for speed. compress/flate inflates the testee's
// messages too; this decoder is there because compress/flate cannot say
// how far back a message reaches: it reports the longest back-reference,
// so that the peer can check the negotiated window (server_max_window_bits,
// client_max_window_bits) and, without context takeover, that a message
// refers to nothing before itself (RFC 7692 §7.1.1, §7.1.2).

// inflateStats is what inflateChecked saw in one message.
type inflateStats struct {
	maxDistance int // the longest back-reference, in octets
	blocks      int
}

type bitReader struct {
	in   []byte
	pos  int // next byte
	bits uint32
	n    uint // bits held
}

var errShort = errors.New("compressed data ends in the middle of a block")

func (r *bitReader) need(n uint) error {
	for r.n < n {
		if r.pos == len(r.in) {
			return errShort
		}
		r.bits |= uint32(r.in[r.pos]) << r.n
		r.pos++
		r.n += 8
	}
	return nil
}

func (r *bitReader) read(n uint) (int, error) {
	if err := r.need(n); err != nil {
		return 0, err
	}
	v := int(r.bits & (1<<n - 1))
	r.bits >>= n
	r.n -= n
	return v, nil
}

// huffman is a canonical Huffman code: count[l] codes of length l, and
// the symbols in code order.
type huffman struct {
	count  [16]int
	symbol []int
}

func newHuffman(lengths []int) (*huffman, error) {
	h := &huffman{symbol: make([]int, 0, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left = left<<1 - h.count[l]
		if left < 0 {
			return nil, errors.New("over-subscribed Huffman code")
		}
	}
	offs := [16]int{}
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.symbol = h.symbol[:len(lengths)]
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = s
			offs[l]++
		}
	}
	return h, nil
}

// decode reads one symbol, bit by bit: the codes of each length are
// consecutive numbers, first being the smallest.
func (h *huffman) decode(r *bitReader) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.read(1)
		if err != nil {
			return 0, err
		}
		code |= b
		if n := h.count[l]; code-first < n {
			return h.symbol[index+code-first], nil
		}
		index += h.count[l]
		first = (first + h.count[l]) << 1
		code <<= 1
	}
	return 0, errors.New("invalid Huffman code")
}

var (
	lengthBase  = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [...]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [...]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clenOrder   = [...]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

var fixedLit, fixedDist = func() (*huffman, *huffman) {
	l := make([]int, 288)
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	d := make([]int, 30)
	for i := range d {
		d[i] = 5
	}
	lit, _ := newHuffman(l)
	dist, _ := newHuffman(d)
	return lit, dist
}()

// inflateChecked decodes one permessage-deflate message (its payload with
// 00 00 ff ff appended) that may refer back into history (the previous
// messages' output, with context takeover; nil without) and no further
// than window octets. It fails on any reference beyond either.
func inflateChecked(history, data []byte, window int) ([]byte, inflateStats, error) {
	var st inflateStats
	r := &bitReader{in: append(data[:len(data):len(data)], 0, 0, 0xff, 0xff)}
	out := append([]byte(nil), history...)
	start := len(history)
	for {
		if r.pos == len(r.in) && r.n < 8 && r.bits == 0 {
			// The flush's empty stored block ended the data.
			return out[start:], st, nil
		}
		st.blocks++
		final, err := r.read(1)
		if err != nil {
			return nil, st, err
		}
		kind, err := r.read(2)
		if err != nil {
			return nil, st, err
		}
		switch kind {
		case 0:
			r.bits, r.n = 0, 0 // to the byte boundary: at most 7 bits held
			if r.pos+4 > len(r.in) {
				return nil, st, errShort
			}
			n := int(r.in[r.pos]) | int(r.in[r.pos+1])<<8
			if nn := int(r.in[r.pos+2]) | int(r.in[r.pos+3])<<8; n != ^nn&0xffff {
				return nil, st, errors.New("stored block: LEN and NLEN disagree")
			}
			r.pos += 4
			if r.pos+n > len(r.in) {
				return nil, st, errShort
			}
			out = append(out, r.in[r.pos:r.pos+n]...)
			r.pos += n
		case 1:
			if out, err = inflateBlock(r, out, start, window, fixedLit, fixedDist, &st); err != nil {
				return nil, st, err
			}
		case 2:
			lit, dist, err := readDynamic(r)
			if err != nil {
				return nil, st, err
			}
			if out, err = inflateBlock(r, out, start, window, lit, dist, &st); err != nil {
				return nil, st, err
			}
		default:
			return nil, st, errors.New("reserved block type 3")
		}
		if final == 1 {
			return out[start:], st, nil
		}
	}
}

func readDynamic(r *bitReader) (lit, dist *huffman, err error) {
	var hlit, hdist, hclen int
	for _, f := range []struct {
		v    *int
		bits uint
		add  int
	}{{&hlit, 5, 257}, {&hdist, 5, 1}, {&hclen, 4, 4}} {
		v, err := r.read(f.bits)
		if err != nil {
			return nil, nil, err
		}
		*f.v = v + f.add
	}
	clens := make([]int, 19)
	for i := range hclen {
		if clens[clenOrder[i]], err = r.read(3); err != nil {
			return nil, nil, err
		}
	}
	clh, err := newHuffman(clens)
	if err != nil {
		return nil, nil, err
	}
	lengths := make([]int, 0, hlit+hdist)
	for len(lengths) < hlit+hdist {
		sym, err := clh.decode(r)
		if err != nil {
			return nil, nil, err
		}
		if sym < 16 {
			lengths = append(lengths, sym)
			continue
		}
		val, bits, base := 0, uint(0), 0
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return nil, nil, errors.New("repeat with no previous length")
			}
			val, bits, base = lengths[len(lengths)-1], 2, 3
		case 17:
			bits, base = 3, 3
		default:
			bits, base = 7, 11
		}
		n, err := r.read(bits)
		if err != nil {
			return nil, nil, err
		}
		for range n + base {
			lengths = append(lengths, val)
		}
	}
	if len(lengths) > hlit+hdist {
		return nil, nil, errors.New("code lengths overrun")
	}
	if lit, err = newHuffman(lengths[:hlit]); err != nil {
		return nil, nil, err
	}
	if dist, err = newHuffman(lengths[hlit:]); err != nil {
		return nil, nil, err
	}
	return lit, dist, nil
}

func inflateBlock(r *bitReader, out []byte, start, window int, lit, dist *huffman, st *inflateStats) ([]byte, error) {
	for {
		sym, err := lit.decode(r)
		if err != nil {
			return nil, err
		}
		switch {
		case sym < 256:
			out = append(out, byte(sym))
			continue
		case sym == 256:
			return out, nil
		case sym > 285:
			return nil, fmt.Errorf("invalid length symbol %d", sym)
		}
		extra, err := r.read(lengthExtra[sym-257])
		if err != nil {
			return nil, err
		}
		length := lengthBase[sym-257] + extra
		ds, err := dist.decode(r)
		if err != nil {
			return nil, err
		}
		if ds >= 30 {
			return nil, fmt.Errorf("invalid distance symbol %d", ds)
		}
		if extra, err = r.read(distExtra[ds]); err != nil {
			return nil, err
		}
		d := distBase[ds] + extra
		st.maxDistance = max(st.maxDistance, d)
		switch {
		case d > window:
			return nil, fmt.Errorf("back-reference of %d octets, beyond the negotiated window of %d", d, window)
		case d > len(out):
			return nil, fmt.Errorf("back-reference of %d octets at octet %d of the message, which may refer to %d octets of earlier messages",
				d, len(out)-start, start)
		}
		for range length {
			out = append(out, out[len(out)-d])
		}
	}
}
