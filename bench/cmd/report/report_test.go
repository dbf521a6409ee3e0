package main

import (
	"math"
	"strings"
	"testing"
)

const input = `go: go version go1.26.8 linux/amd64
commit: abc1234
quick: 0
goos: linux
goarch: amd64
pkg: github.com/zerows/websocket/bench
cpu: Intel(R) Xeon(R) Processor
BenchmarkReceive/lib=zerows/size=16B-2   	     100	       200.0 ns/op	  80.00 MB/s	     40 B/op	       0 allocs/op
BenchmarkReceive/lib=zerows/size=16B-2   	     100	       100.0 ns/op	  80.00 MB/s	     80 B/op	       2 allocs/op
BenchmarkReceive/lib=zerows/size=16B-2   	     100	       150.0 ns/op	  80.00 MB/s	     90 B/op	       2 allocs/op
BenchmarkReceive/lib=gorilla/size=16B-2  	     100	       300.0 ns/op	  50.00 MB/s	     24 B/op	       1 allocs/op
BenchmarkReceive/lib=gobwas/size=16B-2   	     100	        50.0 ns/op	 300.00 MB/s	      0 B/op	       0 allocs/op
BenchmarkReceive/lib=zerows/size=1KiB-2  	     100	      1000 ns/op
BenchmarkReceive/lib=gorilla/size=1KiB-2 	     100	      2000 ns/op
BenchmarkReceive/lib=gobwas/size=1KiB-2  	     100	       900 ns/op
BenchmarkHandshake/lib=zerows/dialers=1-2  	     100	     50000 ns/op	     20000 upgrades/s
BenchmarkHandshake/lib=gorilla/dialers=1-2 	     100	     70000 ns/op	     14000 upgrades/s
BenchmarkMask/lib=gobwas/size=1KiB-2     	     100	        20.0 ns/op
BenchmarkMask/lib=zerows/size=1KiB-2     	     100	        10.0 ns/op
BenchmarkMask/lib=copy/size=1KiB-2       	     100	         8.0 ns/op
BenchmarkOther-2                         	     100	         1.0 ns/op
    bench_test.go:12: a log line
BenchmarkSend/lib=zerows/role=client/size=16B-2
    bench_test.go:99: logged between name and result
     100	        30.0 ns/op	       0 B/op	       0 allocs/op
PASS
ok  	github.com/zerows/websocket/bench	1.0s
loadavg-after: 1.00 2.00 3.00
`

func parseInput(t *testing.T) *data {
	t.Helper()
	f, err := parseBench(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	return arrange(f, []string{"gorilla", "coder", "gobwas", "gws"})
}

func TestParse(t *testing.T) {
	f, err := parseBench(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.samples) != 14 {
		t.Fatalf("%d samples, want 14 (BenchmarkOther has no lib)", len(f.samples))
	}
	s := f.samples[0]
	if s.bench != "Receive" || s.lib != "zerows" || s.key != "size=16B" || s.values["ns/op"] != 200 || s.values["B/op"] != 40 {
		t.Errorf("first sample %+v", s)
	}
	last := f.samples[len(f.samples)-1]
	if last.bench != "Send" || last.key != "role=client/size=16B" || last.values["ns/op"] != 30 {
		t.Errorf("split result line: %+v", last)
	}
	for k, want := range map[string]string{"cpu": "Intel(R) Xeon(R) Processor", "go": "go version go1.26.8 linux/amd64", "loadavg-after": "1.00 2.00 3.00", "goarch": "amd64"} {
		if f.config[k] != want {
			t.Errorf("config %s = %q, want %q", k, f.config[k], want)
		}
	}
	if _, err := parseBench(strings.NewReader("BenchmarkX/lib=a-2 100 12 ns/op 5\n")); err == nil {
		t.Error("odd value/unit fields: no error")
	}
}

func TestArrange(t *testing.T) {
	d := parseInput(t)
	var labels []string
	for _, r := range d.rows {
		labels = append(labels, r.label())
	}
	want := "Receive/size=16B Receive/size=1KiB Handshake/dialers=1 Mask/size=1KiB Send/role=client/size=16B"
	if got := strings.Join(labels, " "); got != want {
		t.Errorf("rows %q, want %q", got, want)
	}
	if got := strings.Join(d.peers, ","); got != "gorilla,gobwas" {
		t.Errorf("peers %q", got)
	}
	if got := strings.Join(d.refs, ","); got != "copy" {
		t.Errorf("refs %q", got)
	}
	r := d.rows[0]
	if m, _ := r.med("zerows", "ns/op"); m != 150 {
		t.Errorf("median %v, want 150", m)
	}
	if lib, ns, _ := d.best(r); lib != "gobwas" || ns != 50 {
		t.Errorf("best %s %v", lib, ns)
	}
	if v, _ := ratio(r, "zerows", "gorilla"); v != 0.5 {
		t.Errorf("zerows/gorilla %v, want 0.5", v)
	}
	// Rows with zerows, gorilla and gobwas: Receive 16B (gorilla 2, gobwas
	// 1/3) and 1KiB (gorilla 2, gobwas 0.9).
	g, n := d.geomeans()
	if n != 2 || math.Abs(g["gorilla"]-2) > 1e-12 || math.Abs(g["gobwas"]-math.Sqrt(0.3)) > 1e-12 {
		t.Errorf("geomeans %v over %d rows", g, n)
	}
}

func TestMedianCI(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("odd median %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("even median %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	// At 95%, 5 samples give no interval, 6 give [min, max], and 10 give
	// the 2nd and 9th smallest.
	lo, hi := medianCI([]float64{1, 2, 3, 4, 5}, 0.95)
	if !math.IsInf(lo, -1) || !math.IsInf(hi, 1) {
		t.Errorf("n=5: [%v, %v]", lo, hi)
	}
	lo, hi = medianCI([]float64{6, 1, 5, 2, 4, 3}, 0.95)
	if lo != 1 || hi != 6 {
		t.Errorf("n=6: [%v, %v]", lo, hi)
	}
	lo, hi = medianCI([]float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 0.95)
	if lo != 2 || hi != 9 {
		t.Errorf("n=10: [%v, %v]", lo, hi)
	}
	if got := pctRange(100, 90, 105); math.Abs(got-0.1) > 1e-12 {
		t.Errorf("pctRange %v", got)
	}
	if got := binomCDF(10, 1); math.Abs(got-11.0/1024) > 1e-15 {
		t.Errorf("binomCDF(10, 1) %v", got)
	}
}

func TestFormat(t *testing.T) {
	for ns, want := range map[float64]string{170.26: "170.3 ns", 1080: "1.08 µs", 102750: "102.75 µs", 1.17e6: "1.17 ms"} {
		if got := fmtTime(ns); got != want {
			t.Errorf("fmtTime(%v) = %q, want %q", ns, got, want)
		}
	}
	for s, want := range map[string]int64{"16B": 16, "1KiB": 1024, "64KiB": 64 << 10, "1MiB": 1 << 20} {
		if got, ok := parseSize(s); !ok || got != want {
			t.Errorf("parseSize(%q) = %v, %v", s, got, ok)
		}
	}
	if _, ok := parseSize("big"); ok {
		t.Error(`parseSize("big") ok`)
	}
}

func TestGoals(t *testing.T) {
	d := parseInput(t)
	idles, err := parseIdlemem(strings.NewReader(`      lib  conns  base RSS KiB  idle RSS KiB  RSS KiB/conn  Go heap+stack KiB/conn  goroutines/conn
   zerows  10000          8900        110656         10.18                    9.31             2.00
  gorilla  10000          8684        177276         16.86                   15.88             1.00
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]goal{}
	for _, g := range d.goals(idles) {
		got[g.name] = g
	}
	cases := []struct {
		goal, verdict, measured string
	}{
		// 16B: 50/150 vs gobwas; 1KiB: 900/1000; 16KiB and 1MiB absent.
		{"Receive speed vs best peer", "**not met**: size=16B, size=1KiB; not measured: size=16KiB, size=1MiB", "size=16B: 0.33× gobwas; size=1KiB: 0.90× gobwas; size=16KiB: not run; size=1MiB: not run"},
		{"Receive allocations", "**not met**: size=16B; not measured: size=1KiB", "size=16B: 2 allocs/op"},
		// B/op median 80 ≤ 16+64; 1KiB has no B/op: not measured.
		{"Receive bytes allocated", "not checked: size=1KiB", "size=16B: 80 B/op"},
		{"Send allocations", "met", "role=client/size=16B: 0 allocs/op"},
		// upgrades/s 20000/14000.
		{"Handshake upgrades/s vs gorilla", "met", "dialers=1: 1.43× gorilla"},
		{"Mask speed vs gobwas", "not checked: size=64KiB, size=1MiB", "size=1KiB: 2.00× gobwas"},
		{"Mask speed vs copy()", "**not met**: size=1KiB; not measured: size=64KiB, size=1MiB", "size=1KiB: 0.80× copy"},
		{"Mask speed vs best peer", "not checked: size=64B", "size=64B: not run"},
		{"Idle memory", "**not met**: 10000 conns", "10000 conns: 10.18 KiB/conn"},
		{"Broadcast speed vs gorilla", "not checked: Broadcast", "Broadcast: not run"},
	}
	for _, c := range cases {
		g, ok := got[c.goal]
		if !ok {
			t.Errorf("no goal %q", c.goal)
			continue
		}
		if v := g.verdict(); v != c.verdict {
			t.Errorf("%s: verdict %q, want %q", c.goal, v, c.verdict)
		}
		var ms []string
		for _, ch := range g.checks {
			ms = append(ms, ch.label+": "+ch.value)
		}
		if m := strings.Join(ms, "; "); !strings.Contains(m, c.measured) {
			t.Errorf("%s: measured %q, want it to hold %q", c.goal, m, c.measured)
		}
	}
	// Fewer idle conns than the goal names: shown, but not checked.
	g := goal{checks: idleCheck([]idle{{lib: "zerows", conns: 500, rssPerConn: 4}})}
	if v := g.verdict(); v != "not checked: 500 conns" {
		t.Errorf("idle at 500 conns: %q", v)
	}
}

func TestIdleCompressionGoals(t *testing.T) {
	idles, err := parseIdlemem(strings.NewReader(`     lib         mode  msgs  conns  base RSS KiB  idle RSS KiB  RSS KiB/conn  Go heap+stack KiB/conn  goroutines/conn
  zerows          off     0  10000          8952         11948          6.50                    7.04             1.00
  zerows          off     1  10000          8952         13744          7.00                   13.07             1.00
  zerows  no-takeover     0  10000          8836         12180          7.40                    7.52             1.00
  zerows  no-takeover     1  10000          8836         12792          8.10                    9.55             1.00
  zerows     takeover     0  10000          8980         12300          7.00                    7.49             1.00
  zerows     takeover     1  10000          8980         62708        179.09                 1220.43             1.00
     gws     takeover     0  10000         10248         14624         14.59                   84.32             1.00
     gws     takeover     1  10000         10248         24256         46.69                  122.99             1.00
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(idles) != 8 || idles[5].mode != "takeover" || idles[5].msgs != 1 || idles[5].goPerConn != 1220.43 {
		t.Fatalf("parsed %+v", idles)
	}
	// The plain goal reads the off, fresh line only.
	if g := (goal{checks: idleCheck(idles)}); g.checks[0].value != "6.50 KiB/conn" || g.verdict() != "met" {
		t.Errorf("idle: %+v, %s", g.checks, g.verdict())
	}
	// 7.40 ≤ 6.50+1 fresh; 8.10 > 7.00+1 after one message.
	g := goal{checks: idleCompressionChecks(idles)}
	if v := g.verdict(); v != "**not met**: after 1 msg" {
		t.Errorf("no takeover: %q", v)
	}
	// 7.00 < 14.59 fresh; 179.09 > 46.69 after one message.
	g = goal{checks: idleTakeoverChecks(idles)}
	if v := g.verdict(); v != "**not met**: after 1 msg" {
		t.Errorf("takeover: %q", v)
	}
	if m := g.checks[1].value; m != "179.09 vs gws takeover 46.69 KiB/conn" {
		t.Errorf("takeover after 1 msg: %q", m)
	}
	// Nothing measured with compression: not checked, not failed.
	g = goal{checks: idleTakeoverChecks(idles[:2])}
	if v := g.verdict(); v != "not checked: fresh, after 1 msg" {
		t.Errorf("takeover unmeasured: %q", v)
	}
}

func TestSplice(t *testing.T) {
	doc := "# x\n\n" + beginMarker + "\nold\n" + endMarker + "\ntail\n"
	got, err := splice(doc, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# x\n\n" + beginMarker + "\nnew\n" + endMarker + "\ntail\n"; got != want {
		t.Errorf("splice:\n%s\nwant:\n%s", got, want)
	}
	if _, err := splice("no markers", "new"); err == nil {
		t.Error("no markers: no error")
	}
	if _, err := splice(endMarker+beginMarker, "new"); err == nil {
		t.Error("markers reversed: no error")
	}
}

func TestRender(t *testing.T) {
	d := parseInput(t)
	out := render(d, nil, "", nil, "results/bench.txt", "results/idlemem.txt")
	for _, want := range []string{
		"| Receive/size=16B | 150.0 ns | ∞ | 300.0 ns | 50.0 ns | – | gobwas | 3.00 | 0.50 | – | 80 | 2 |",
		"| Mask/size=1KiB | 10.0 ns | ∞ | – | 20.0 ns | 8.0 ns | gobwas | 0.50 | – | 1.25 | – | – |",
		"zerows ÷ copy",
		"machine: Intel(R) Xeon(R) Processor, linux/amd64, go version go1.26.8 linux/amd64",
		"load average (1, 5, 15 min) before the benchmarks: unknown; after: 1.00 2.00 3.00",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "QUICK") {
		t.Error("quick: 0 rendered as quick mode")
	}
	d.config["quick"] = "1"
	if out := render(d, nil, "", nil, "", ""); !strings.Contains(out, "QUICK MODE") {
		t.Error("quick: 1 not rendered as quick mode")
	}
}
