package autobahn

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Sections 12 and 13: permessage-deflate (RFC 7692). Each case negotiates
// compression, sends COUNT messages of LEN characters (text) or octets
// (binary), each compressed by the peer and sent once the previous echo is
// back, auto-fragmented into frames of AUTOFRAG octets of compressed
// payload (0: one frame), and expects every echo exactly. The peer checks
// every message the testee compresses: it inflates it with compress/flate
// and with a naive decoder that fails on a back-reference beyond the
// negotiated window or, without context takeover, before the message.
//
// Autobahn's parameters, case by case: section 12 offers Autobahn's default
// (client_no_context_takeover; client_max_window_bits) with five data
// sets; section 13 sends one data set with seven offers (the fuzzer as
// client) and answers (the fuzzer as server). Autobahn's data sets are
// files (a JSON document, a bitmap, a German text, an HTML page, a PDF);
// these are generated to match their character: compressible text,
// compressible binary, text sent as binary, text with non-ASCII
// characters, and mostly incompressible binary.
//
// Scaled down: each case sends -deflate-messages messages (default 4)
// instead of Autobahn's 1000 (sizes, fragment sizes and negotiations
// unchanged), and unless -full is given the sections run against two echo
// styles per side, not four: wait (SendMessage) and prepared
// (SendPrepared), the two ways a message is compressed; the other styles
// differ from wait only in how messages leave the mailbox, after
// inflating. So the 216 cases take about 2 s of CPU per target; at
// Autobahn's count they take over half an hour per target, as in the real
// suite. Under the race detector, one message per case and the wait style
// alone (race_test.go).
var deflateMessages = flag.Int("deflate-messages", 4, "messages per case in sections 12 and 13 (Autobahn sends 1000)")

// compressionStyles are the echo styles sections 12 and 13 run against
// without -full: wait alone under the race detector.
func compressionStyles() []string {
	if raceEnabled && !*full {
		return []string{"wait"}
	}
	return []string{"wait", "prepared"}
}

// compressionCount is the number of messages per case (Autobahn's: n):
// one under the race detector unless -deflate-messages is given.
func compressionCount(n int) int {
	m := *deflateMessages
	if raceEnabled && !flagSet("deflate-messages") {
		m = 1
	}
	return max(min(m, n), 1)
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// compressionWait bounds a case: Autobahn's timeout for its 1000
// messages, in proportion, and at least 30 s.
func compressionWait(autobahnTimeout int) time.Duration {
	return max(30*time.Second, time.Duration(autobahnTimeout)*time.Second*time.Duration(*deflateMessages)/1000)
}

// msgSizes are Autobahn's MSG_SIZES: (LEN, COUNT, timeout in s, AUTOFRAG).
var msgSizes = [...]struct {
	size, count, timeout, frag int
}{
	{16, 1000, 60, 0},
	{64, 1000, 60, 0},
	{256, 1000, 120, 0},
	{1024, 1000, 240, 0},
	{4096, 1000, 480, 0},
	{8192, 1000, 480, 0},
	{16384, 1000, 480, 0},
	{32768, 1000, 480, 0},
	{65536, 1000, 480, 0},
	{131072, 1000, 480, 0},

	{8192, 1000, 480, 256},
	{16384, 1000, 480, 256},
	{32768, 1000, 480, 256},
	{65536, 1000, 480, 256},
	{131072, 1000, 480, 256},
	{131072, 1000, 480, 1024},
	{131072, 1000, 480, 4096},
	{131072, 1000, 480, 32768},
}

// dataSet is one of the payloads messages are cut from.
type dataSet struct {
	name   string
	binary bool
	data   []byte
	runes  []int // text: the offset of each character, so that LEN counts characters as Autobahn's does
}

// cut returns the count messages of n characters (text) or octets
// (binary) that Autobahn's sendOne cuts from the data set, wrapping
// around at its end.
func (d *dataSet) cut(n, count int) [][]byte {
	units := len(d.data)
	if !d.binary {
		units = len(d.runes)
	}
	offset := func(i int) int {
		if d.binary || i == units {
			return min(i, len(d.data))
		}
		return d.runes[i]
	}
	var msgs [][]byte
	at := 0
	for range count {
		to := (at + n) % units
		switch {
		case n == 0:
			msgs = append(msgs, nil)
		case to > at:
			msgs = append(msgs, d.data[offset(at):offset(to)])
		default:
			m := append([]byte(nil), d.data[offset(at):]...)
			msgs = append(msgs, append(m, d.data[:offset(to)]...))
		}
		at = to
	}
	return msgs
}

func newDataSet(name string, binary bool, data []byte) *dataSet {
	d := &dataSet{name: name, binary: binary, data: data}
	if !binary {
		if !utf8.Valid(data) {
			panic(name + " is not UTF-8")
		}
		for i := range string(data) {
			d.runes = append(d.runes, i)
		}
	}
	return d
}

// The data sets, generated once, deterministically.
var dataSets = sync.OnceValue(func() []*dataSet {
	r := rand.New(rand.NewPCG(12, 13))
	words := strings.Fields("the of and to in is was for on that with as by at from this be are or it an " +
		"which have not has were but all one their they had more can been will would there when who")
	german := strings.Fields("Habe nun ach Philosophie Juristerei und Medizin auch leider Theologie durchaus studiert " +
		"mit heißem Bemühn Da steh ich nun ich armer Tor bin so klug als wie zuvor Heiße Magister " +
		"heiße Doktor gar Und ziehe schon an die zehen Jahr Herauf herab und quer und krumm Meine Schüler " +
		"an der Nase herum daß wir nichts wissen können Das will mir schier das Herz verbrennen Gretchen Mephistopheles")

	// 12.1: a JSON document (text).
	var j strings.Builder
	j.WriteString("[\n")
	for i := 0; j.Len() < 190_000; i++ {
		fmt.Fprintf(&j, `  {"id": %d, "name": "%s %s", "email": "%s@example.com", "score": %.4f, "active": %t, "tags": ["%s", "%s"], "count": %d},`+"\n",
			i, words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))], r.Float64()*1000, r.IntN(2) == 0,
			words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(100000))
	}
	j.WriteString("  {}\n]\n")

	// 12.2: a 512×512 8-bit grey bitmap: smooth shapes and a little noise.
	bmp := []byte("BM6\x04\x04\x00\x00\x00\x00\x006\x04\x00\x00(\x00\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x01\x00\x08\x00")
	bmp = append(bmp, make([]byte, 1078-len(bmp))...)
	for y := range 512 {
		for x := range 512 {
			dx, dy := x-256, y-200
			v := (x+y)/4 + (dx*dx+dy*dy)/1024 + r.IntN(6)
			bmp = append(bmp, byte(v))
		}
	}

	// 12.3: German verse, as binary.
	var faust strings.Builder
	for faust.Len() < 220_000 {
		n := 4 + r.IntN(6)
		for k := range n {
			if k > 0 {
				faust.WriteByte(' ')
			}
			faust.WriteString(german[r.IntN(len(german))])
		}
		faust.WriteString(",\n")
	}

	// 12.4: an HTML page (text), with non-ASCII characters.
	var html strings.Builder
	html.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Data — test</title></head><body>\n")
	for i := 0; html.Len() < 260_000; i++ {
		fmt.Fprintf(&html, "<div class=\"row r%d\"><a href=\"/item/%d\">%s</a> <span>%s — %d,%02d €</span> <p>%s %s é à ü</p></div>\n",
			i%7, r.IntN(1e6), words[r.IntN(len(words))], german[r.IntN(len(german))], r.IntN(1000), r.IntN(100),
			words[r.IntN(len(words))], words[r.IntN(len(words))])
	}
	html.WriteString("</body></html>\n")

	// 12.5: a PDF: mostly compressed streams (random octets) between a
	// little text.
	var pdf []byte
	for i := 0; len(pdf) < 300_000; i++ {
		pdf = fmt.Appendf(pdf, "%d 0 obj\n<< /Length 4096 /Filter /FlateDecode >>\nstream\n", i+1)
		chunk := make([]byte, 4096)
		for k := range chunk {
			chunk[k] = byte(r.Uint32())
		}
		pdf = append(pdf, chunk...)
		pdf = append(pdf, "\nendstream\nendobj\n"...)
	}

	return []*dataSet{
		newDataSet("JSON document (text)", false, []byte(j.String())),
		newDataSet("grey bitmap 512x512 (binary)", true, bmp),
		newDataSet("German text (binary)", true, []byte(faust.String())),
		newDataSet("HTML page with non-ASCII characters (text)", false, []byte(html.String())),
		newDataSet("PDF-like, mostly incompressible (binary)", true, pdf),
	}
})

// autobahnOffer is Autobahn's PerMessageDeflateOffer(): it lets the server
// ask for client_no_context_takeover and client_max_window_bits, and
// requests no_context_takeover / max_window_bits of the server as given.
func autobahnOffer(serverNoContext bool, serverWindow int) deflateParams {
	return deflateParams{clientNoContext: true, clientWindow: -1, serverNoContext: serverNoContext, serverWindow: serverWindow}
}

// section13 are Autobahn's DEFLATE_PARAMS: the server's answer and the
// client's offers.
func section13() []*deflateCase {
	accept1 := acceptAs(false, 0)
	accept2 := acceptAs(true, 0)
	accept5 := acceptAs(true, 9)
	return []*deflateCase{
		{desc: "accept (no context takeover, window): (false, 0)", accept: accept1, offers: []deflateParams{autobahnOffer(false, 0)}},
		{desc: "accept (true, 0)", accept: accept2, offers: []deflateParams{autobahnOffer(true, 0)}},
		{desc: "accept (false, 9)", accept: acceptAs(false, 9), offers: []deflateParams{autobahnOffer(false, 9)}},
		{desc: "accept (false, 15)", accept: acceptAs(false, 15), offers: []deflateParams{autobahnOffer(false, 15)}},
		{desc: "accept (true, 9)", accept: accept5, offers: []deflateParams{autobahnOffer(true, 9)}},
		{desc: "accept (true, 15)", accept: acceptAs(true, 15), offers: []deflateParams{autobahnOffer(true, 15)}},
		{desc: "accept (true, 9), else (true, 0), else (false, 0)", accept: acceptFirst(accept5, accept2, accept1),
			offers: []deflateParams{autobahnOffer(true, 9), autobahnOffer(true, 0), autobahnOffer(false, 0)}},
	}
}

func cases12() []*kase {
	var cs []*kase
	dc := &deflateCase{desc: "Autobahn's default offer", accept: acceptAs(false, 0), offers: []deflateParams{autobahnOffer(false, 0)}}
	for j, ds := range dataSets() {
		for i, s := range msgSizes {
			cs = append(cs, compressionCase(fmt.Sprintf("12.%d.%d", j+1, i+1), ds, dc, s.size, s.count, s.timeout, s.frag))
		}
	}
	return cs
}

func cases13() []*kase {
	var cs []*kase
	ds := dataSets()[0]
	for j, dc := range section13() {
		for i, s := range msgSizes {
			cs = append(cs, compressionCase(fmt.Sprintf("13.%d.%d", j+1, i+1), ds, dc, s.size, s.count, s.timeout, s.frag))
		}
	}
	return cs
}

// compressionCase sends the messages one by one, each after the previous
// echo, as Autobahn's sendOne/onMessage do.
func compressionCase(id string, ds *dataSet, dc *deflateCase, size, count, timeout, frag int) *kase {
	count = compressionCount(count)
	msgs := ds.cut(size, count)
	want := make([]event, len(msgs))
	for i, m := range msgs {
		want[i] = event{kind: evMessage, text: !ds.binary, data: m}
	}
	wait := compressionWait(timeout)
	var offers []string
	for _, o := range dc.offers {
		offers = append(offers, o.String())
	}
	return &kase{
		id: id,
		desc: fmt.Sprintf("%s: send %d compressed messages of %d %s each, auto-fragmented to %d octets; offers %s; %s.",
			ds.name, count, size, map[bool]string{false: "characters", true: "octets"}[ds.binary], frag, strings.Join(offers, ", "), dc.desc),
		deflate: dc,
		send: func(p *peer) {
			deadline := time.Now().Add(wait)
			for i, m := range msgs {
				p.sendMessage(ds.binary, m, frag)
				if !p.waitFor(time.Until(deadline), func(evs []event) bool { return countData(evs) > i || hasEnd(evs) }) || hasEnd(p.snapshot()) {
					return
				}
			}
		},
		want: want, wait: wait,
	}
}
