// Package corpus makes the text the compression benchmarks send: JSON
// arrays of event records, as a chat or telemetry server would carry,
// generated deterministically from a seed. Records repeat their keys and
// draw values from small vocabularies, so the text compresses about as
// well as real JSON does (to roughly a quarter to a third of its size at
// compress/flate's BestSpeed), not as well as a run of zeros.
package corpus

import (
	"math/rand/v2"
	"strconv"
)

var (
	events  = []string{"click", "view", "scroll", "purchase", "login", "logout", "search", "share"}
	pages   = []string{"/", "/search", "/cart", "/checkout", "/product/", "/account/settings", "/help/faq"}
	agents  = []string{"Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)"}
	tags    = []string{"new", "sale", "featured", "gift", "eco", "limited", "bundle"}
	locales = []string{"en-US", "de-DE", "fr-FR", "ja-JP", "pt-BR"}
)

// JSON returns exactly n bytes of JSON text: an array of records whose
// values come from a generator seeded with seed, padded with spaces
// before the closing bracket. Different seeds give different records of
// the same shape, as consecutive messages of one stream would be. n
// under 2 returns that many spaces.
func JSON(n int, seed uint64) []byte {
	if n < 2 {
		return []byte("  "[:max(n, 0)])
	}
	r := rand.New(rand.NewPCG(seed, 0x6a736f6e))
	out := make([]byte, 0, n)
	out = append(out, '[')
	var rec []byte
	for id := 0; ; id++ {
		rec = record(rec[:0], r, seed, id)
		sep := 0
		if id > 0 {
			sep = 1
		}
		if len(out)+sep+len(rec)+1 > n {
			break
		}
		if sep == 1 {
			out = append(out, ',')
		}
		out = append(out, rec...)
	}
	for len(out) < n-1 {
		out = append(out, ' ')
	}
	return append(out, ']')
}

// record appends one event record.
func record(b []byte, r *rand.Rand, seed uint64, id int) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, seed*100000+uint64(id), 10)
	b = append(b, `,"user":"user_`...)
	b = strconv.AppendInt(b, int64(r.IntN(5000)), 10)
	b = append(b, `","event":"`...)
	b = append(b, events[r.IntN(len(events))]...)
	b = append(b, `","page":"`...)
	p := pages[r.IntN(len(pages))]
	b = append(b, p...)
	if p == "/product/" {
		b = strconv.AppendInt(b, int64(r.IntN(100000)), 10)
	}
	b = append(b, `","ts":"2026-12-07T`...)
	b = appendTwo(b, r.IntN(24))
	b = append(b, ':')
	b = appendTwo(b, r.IntN(60))
	b = append(b, ':')
	b = appendTwo(b, r.IntN(60))
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(100+r.IntN(900)), 10)
	b = append(b, `Z","price":`...)
	b = strconv.AppendFloat(b, float64(r.IntN(100000))/100, 'f', 2, 64)
	b = append(b, `,"qty":`...)
	b = strconv.AppendInt(b, int64(1+r.IntN(9)), 10)
	b = append(b, `,"tags":[`...)
	for i := range r.IntN(4) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, tags[r.IntN(len(tags))]...)
		b = append(b, '"')
	}
	b = append(b, `],"locale":"`...)
	b = append(b, locales[r.IntN(len(locales))]...)
	b = append(b, `","agent":"`...)
	b = append(b, agents[r.IntN(len(agents))]...)
	b = append(b, `","ok":`...)
	b = strconv.AppendBool(b, r.IntN(10) > 0)
	return append(b, '}')
}

func appendTwo(b []byte, v int) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}
