package autobahn

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/zerows/websocket/autobahn/echo"
	"github.com/zerows/websocket/internal/wstest"
)

var full = flag.Bool("full", false, "run section 9 at Autobahn's full sizes and counts (slow)")

// Time bounds. None of them is a sleep used to synchronise: each is the
// longest the suite waits for something that normally happens in
// microseconds.
const (
	quietPause    = 15 * time.Millisecond  // fail-fast cases: the deliberate pause between chunks
	failFastBound = 500 * time.Millisecond // fail-fast cases: the invalid octet → the close frame
	echoWait      = 5 * time.Second        // the expected echoes and pongs
	closeWait     = 3 * time.Second        // the close frame
	tcpWait       = 3 * time.Second        // the TCP close after the closing handshake
)

// closeMode says who starts the closing handshake, as Autobahn's
// expectedClose["closedByMe"] does.
type closeMode int

const (
	closeByUs     closeMode = iota // after the expected events arrive, the fuzzer closes with 1000
	closeSent                      // the case's own frames include a close frame
	closeByTestee                  // the testee must fail the connection
)

// side restricts a case to one kind of testee.
type side int

const (
	bothSides side = iota
	serverOnly
	clientOnly
)

// kase is one conformance case. Its fields mirror an Autobahn case:
// expected[OK] (want), expected[NON_STRICT] (nonStrict), expectedClose
// (mode, codes) and the INFORMATIONAL outcome (info).
type kase struct {
	id        string
	desc      string
	send      func(p *peer)
	want      []event   // the events (messages, pongs) Autobahn grades OK, in order
	nonStrict *[]event  // the events Autobahn grades NON-STRICT, if any
	mode      closeMode // who closes
	codes     []int     // allowed codes in the testee's close frame (closeByUs: default 1000)
	empty     bool      // an empty close frame is also fine
	info      bool      // INFORMATIONAL: recorded, never a failure
	wait      time.Duration
	side      side
	deflate   *deflateCase // sections 12 and 13: the permessage-deflate negotiation
}

func (c *kase) waitDur() time.Duration {
	if c.wait > 0 {
		return c.wait
	}
	return echoWait
}

func (c *kase) closeCodes() []int {
	if len(c.codes) == 0 && c.mode == closeByUs {
		return []int{1000}
	}
	return c.codes
}

// expected describes the case's expectation for the tables.
func (c *kase) expected() string {
	var b strings.Builder
	b.WriteString(describeEvents(c.want))
	cs := strings.Trim(fmt.Sprint(c.closeCodes()), "[]")
	cs = strings.ReplaceAll(cs, " ", "|")
	if c.empty {
		cs += "|empty"
	}
	switch c.mode {
	case closeByUs:
		fmt.Fprintf(&b, "; we close → %s", cs)
	case closeSent:
		fmt.Fprintf(&b, "; answer %s", cs)
	case closeByTestee:
		fmt.Fprintf(&b, "; testee fails %s", cs)
	}
	if c.info {
		b.WriteString(" (informational)")
	}
	return b.String()
}

// Grades, as Autobahn names them.
const (
	gradeOK        = "OK"
	gradeNonStrict = "NON-STRICT"
	gradeFailed    = "FAILED"
	gradeInfo      = "INFORMATIONAL"
)

type result struct {
	id, expected, observed, grade, sent string
	took                                time.Duration
	problems                            []string
}

// connection is one testee connection: the peer talking to it, and finish,
// which runs after the closing handshake and checks that the TCP connection
// is closed the way the testee's role requires.
type connection struct {
	p      *peer
	finish func(p *peer) (note string, problem string)
}

// target is one testee: the library as a server on one echo path, or as a
// client with one echo style.
type target struct {
	name    string
	style   string // the echo style
	server  bool   // the library is the server (the peer plays the client)
	connect func(c *kase) (*connection, error)
}

// runCase plays one case against a fresh connection and grades it.
func runCase(tg target, c *kase) (r result) {
	r = result{id: c.id, expected: c.expected()}
	start := time.Now()
	defer func() { r.took = time.Since(start) }()
	conn, err := tg.connect(c)
	if err != nil {
		r.grade, r.observed = gradeFailed, "connect: "+err.Error()
		r.problems = append(r.problems, r.observed)
		return r
	}
	p := conn.p
	deadline := time.Now().Add(c.waitDur() + closeWait + tcpWait + 10*time.Second)
	p.nc.SetWriteDeadline(deadline)
	defer p.nc.Close()

	c.send(p)
	switch c.mode {
	case closeByUs:
		n := len(c.want)
		p.waitFor(c.waitDur(), func(evs []event) bool { return countData(evs) >= n || hasEnd(evs) })
		if !hasEnd(p.snapshot()) && !p.closeSent() {
			p.sendClose(1000, "")
		}
		p.waitFor(closeWait, hasEnd)
	case closeSent:
		p.waitFor(closeWait, hasEnd)
	case closeByTestee:
		p.waitFor(c.waitDur(), hasEnd)
	}
	// Answer the testee's close as an endpoint must: echo its code.
	var closeEv *event
	for _, e := range p.snapshot() {
		if e.kind == evClose {
			e := e
			closeEv = &e
			break
		}
	}
	if closeEv != nil && !p.closeSent() {
		p.sendClose(closeEv.code, "")
	}
	tcpNote, tcpProblem := conn.finish(p)

	// Grade what happened.
	all := p.snapshot()
	var received, violations []event
	ended := false
	for _, e := range all {
		switch {
		case e.kind == evViolation:
			violations = append(violations, e)
		case e.isEnd():
			ended = true
		case e.isData() && !ended:
			received = append(received, e)
		}
	}
	grade := gradeOK
	fail := func(format string, args ...any) {
		grade = gradeFailed
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	}
	for _, v := range violations {
		fail("%v", v)
	}
	switch {
	case sameEvents(received, c.want):
	case c.nonStrict != nil && sameEvents(received, *c.nonStrict):
		if grade == gradeOK {
			grade = gradeNonStrict
		}
		r.problems = append(r.problems, fmt.Sprintf("NON-STRICT: received %s, OK needs %s", describeEvents(received), describeEvents(c.want)))
	default:
		fail("received %s, want %s%s", describeEvents(received), describeEvents(c.want), firstDiff(received, c.want))
	}
	switch {
	case closeEv == nil:
		fail("no close frame: the TCP connection ended without a closing handshake")
	default:
		if closeEv.code < 0 && !c.empty {
			fail("empty close frame, want code %v", c.closeCodes())
		} else if closeEv.code >= 0 && !contains(c.closeCodes(), closeEv.code) {
			fail("close code %d, want %v", closeEv.code, c.closeCodes())
		}
		p.mu.Lock()
		sentAt := p.closeSentAt
		p.mu.Unlock()
		byTestee := sentAt.IsZero() || closeEv.at.Before(sentAt)
		if c.mode == closeByTestee && !byTestee {
			fail("the testee did not fail the connection: we closed first")
		}
		if c.mode != closeByTestee && byTestee {
			fail("the testee closed first")
		}
	}
	if tcpProblem != "" {
		fail("%s", tcpProblem)
	}
	for _, f := range p.failures {
		fail("%s", f)
	}
	for _, n := range p.nonStrict {
		if grade == gradeOK {
			grade = gradeNonStrict
		}
		r.problems = append(r.problems, "NON-STRICT: "+n)
	}

	// Describe it.
	var obs []string
	obs = append(obs, describeEvents(received))
	if closeEv != nil {
		obs = append(obs, closeEv.String())
	}
	obs = append(obs, p.notes...)
	if d := p.pmd; d != nil {
		p.mu.Lock()
		in, compressed := d.messagesIn, d.compressedIn
		p.mu.Unlock()
		obs = append(obs, fmt.Sprintf("%s: %d of %d echoes compressed, longest back-reference %d", d.ext, compressed, in, d.maxDistance.Load()))
	}
	if tcpNote != "" {
		obs = append(obs, tcpNote)
	}
	r.observed = strings.Join(obs, "; ")
	r.sent = strings.Join(p.sent, "; ")
	r.grade = grade
	if c.info {
		r.grade = gradeInfo
	}
	return r
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func sameEvents(got, want []event) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].kind != want[i].kind || got[i].text != want[i].text || !bytes.Equal(got[i].data, want[i].data) {
			return false
		}
	}
	return true
}

// firstDiff explains the first difference between two event lists whose
// descriptions may look alike (large payloads).
func firstDiff(got, want []event) string {
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.kind != w.kind || g.text != w.text {
			return fmt.Sprintf(" (event %d: %v, want %v)", i, g, w)
		}
		if !bytes.Equal(g.data, w.data) {
			j := 0
			for j < len(g.data) && j < len(w.data) && g.data[j] == w.data[j] {
				j++
			}
			return fmt.Sprintf(" (event %d: payload %d bytes differs from %d bytes at offset %d)", i, len(g.data), len(w.data), j)
		}
	}
	return ""
}

// runSections runs every section against tg, logs one table per section and
// fails the test on any grade but OK and INFORMATIONAL.
func runSections(t *testing.T, tg target) {
	for _, sec := range sections() {
		if sec.styles != nil && !*full && !slices.Contains(sec.styles, tg.style) {
			continue
		}
		var mu sync.Mutex
		var results []result
		t.Run(sec.id, func(t *testing.T) {
			for _, c := range sec.cases {
				if (c.side == serverOnly && !tg.server) || (c.side == clientOnly && tg.server) {
					continue
				}
				c := c
				t.Run(c.id, func(t *testing.T) {
					t.Parallel()
					r := runCase(tg, c)
					mu.Lock()
					results = append(results, r)
					mu.Unlock()
					if r.grade != gradeOK && r.grade != gradeInfo {
						t.Errorf("%s %s: %s\n  case: %s\n  sent: %s\n  expected: %s\n  observed: %s\n  %s",
							tg.name, c.id, r.grade, c.desc, r.sent, r.expected, r.observed, strings.Join(r.problems, "\n  "))
					}
				})
			}
		})
		if len(results) > 0 {
			t.Log(table(tg.name, sec, results))
		}
	}
}

// table formats one section's results.
func table(target string, sec section, rs []result) string {
	sort.Slice(rs, func(i, j int) bool { return caseLess(rs[i].id, rs[j].id) })
	counts := map[string]int{}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "case\tgrade\ttime\texpected\tobserved\n")
	for _, r := range rs {
		counts[r.grade]++
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", r.id, r.grade, round(r.took), clip(r.expected, 90), clip(r.observed, 110))
	}
	tw.Flush()
	var sum []string
	for _, g := range []string{gradeOK, gradeInfo, gradeNonStrict, gradeFailed} {
		if counts[g] > 0 {
			sum = append(sum, fmt.Sprintf("%d %s", counts[g], g))
		}
	}
	return fmt.Sprintf("\n%s — section %s (%s): %d cases: %s\n%s", target, sec.id, sec.name, len(rs), strings.Join(sum, ", "), b.String())
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// caseLess orders ids numerically component by component ("2.10" after "2.9").
func caseLess(a, b string) bool {
	pa, pb := splitID(a), splitID(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] != pb[i] {
			var na, nb int
			_, ea := fmt.Sscan(pa[i], &na)
			_, eb := fmt.Sscan(pb[i], &nb)
			if ea == nil && eb == nil && na != nb {
				return na < nb
			}
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}

func splitID(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '/' })
}

// serverTarget connects a raw TCP client to one echo path of srv.
func serverTarget(srvAddr string, s echo.Style) target {
	return target{
		name:   "server/" + s.Name,
		style:  s.Name,
		server: true,
		connect: func(c *kase) (*connection, error) {
			nc, err := net.DialTimeout("tcp", srvAddr, 5*time.Second)
			if err != nil {
				return nil, err
			}
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			extra, offers := offerHeader(c)
			br, resp, err := wstest.ClientHandshake(nc, srvAddr, s.Path, extra)
			if err != nil {
				nc.Close()
				return nil, err
			}
			d, err := checkResponse(resp.Header.Values("Sec-WebSocket-Extensions"), offers)
			if err != nil {
				nc.Close()
				return nil, err
			}
			nc.SetDeadline(time.Time{})
			return &connection{p: newPeer(nc, br, true, d), finish: serverFinish}, nil
		},
	}
}

// offerHeader returns the handshake header that makes case c's
// permessage-deflate offers, and the offers; none for a case without.
func offerHeader(c *kase) (http.Header, []deflateParams) {
	if c.deflate == nil {
		return nil, nil
	}
	var list []string
	for _, o := range c.deflate.offers {
		list = append(list, o.String())
	}
	return http.Header{"Sec-WebSocket-Extensions": {strings.Join(list, ", ")}}, c.deflate.offers
}

// serverFinish checks that the server closes the TCP connection after the
// closing handshake; the peer never closes it first.
func serverFinish(p *peer) (string, string) {
	if !p.waitFor(tcpWait, hasEOF) {
		return "", fmt.Sprintf("server did not close TCP within %v of the closing handshake", tcpWait)
	}
	return "server closed TCP", ""
}

// TestServer runs every section against the library as a server, once per
// echo path (API style).
func TestServer(t *testing.T) {
	srv := httptest.NewServer(echo.Handler(nil))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	for _, s := range echo.Styles {
		s := s
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			runSections(t, serverTarget(addr, s))
		})
	}
}
