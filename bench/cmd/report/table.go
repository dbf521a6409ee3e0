package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// base is the library every other is compared with.
const base = "zerows"

// row is one benchmark case across libraries: "Receive/size=16B".
type row struct {
	bench, key string
	vals       map[string]map[string][]float64 // lib -> unit -> one value per run
}

func (r *row) label() string {
	if r.key == "" {
		return r.bench
	}
	return r.bench + "/" + r.key
}

// med returns the median of lib's values in unit on this row.
func (r *row) med(lib, unit string) (float64, bool) {
	xs := r.vals[lib][unit]
	if len(xs) == 0 {
		return 0, false
	}
	return median(xs), true
}

// runs returns how many values lib has in unit on this row.
func (r *row) runs(lib, unit string) int { return len(r.vals[lib][unit]) }

// data is a bench file arranged in rows and lib columns.
type data struct {
	config map[string]string
	rows   []*row
	peers  []string // the peers that appear, in the given order
	refs   []string // libraries that are neither zerows nor a peer (copy), as they first appear
}

// arrange groups samples into rows: benchmarks in the order they first
// appear, and within one benchmark, keys in the order they first appear.
func arrange(f *file, peerList []string) *data {
	d := &data{config: f.config}
	var benches []string
	byBench := map[string][]*row{}
	index := map[string]*row{}
	seenLib := map[string]bool{}
	var libs []string
	for _, s := range f.samples {
		id := s.bench + "\x00" + s.key
		r := index[id]
		if r == nil {
			r = &row{bench: s.bench, key: s.key, vals: map[string]map[string][]float64{}}
			index[id] = r
			if byBench[s.bench] == nil {
				benches = append(benches, s.bench)
			}
			byBench[s.bench] = append(byBench[s.bench], r)
		}
		if r.vals[s.lib] == nil {
			r.vals[s.lib] = map[string][]float64{}
		}
		for u, v := range s.values {
			r.vals[s.lib][u] = append(r.vals[s.lib][u], v)
		}
		if !seenLib[s.lib] {
			seenLib[s.lib] = true
			libs = append(libs, s.lib)
		}
	}
	for _, b := range benches {
		d.rows = append(d.rows, byBench[b]...)
	}
	for _, p := range peerList {
		if seenLib[p] && p != base {
			d.peers = append(d.peers, p)
		}
	}
	for _, l := range libs {
		if l != base && !slices.Contains(peerList, l) {
			d.refs = append(d.refs, l)
		}
	}
	return d
}

// best returns the peer with the lowest median time on r.
func (d *data) best(r *row) (lib string, ns float64, ok bool) {
	for _, p := range d.peers {
		if v, has := r.med(p, "ns/op"); has && (!ok || v < ns) {
			lib, ns, ok = p, v, true
		}
	}
	return lib, ns, ok
}

// ratio returns the median time of a over that of b on r.
func ratio(r *row, a, b string) (float64, bool) {
	x, ok1 := r.med(a, "ns/op")
	y, ok2 := r.med(b, "ns/op")
	if !ok1 || !ok2 || y == 0 {
		return 0, false
	}
	return x / y, true
}

// geomeans returns, for each peer, the geometric mean over rows where
// zerows and every peer ran of the peer's time over zerows's, and how
// many rows that was.
func (d *data) geomeans() (map[string]float64, int) {
	per := map[string][]float64{}
	n := 0
	for _, r := range d.rows {
		if _, ok := r.med(base, "ns/op"); !ok {
			continue
		}
		all := len(d.peers) > 0
		for _, p := range d.peers {
			if _, ok := r.med(p, "ns/op"); !ok {
				all = false
			}
		}
		if !all {
			continue
		}
		n++
		for _, p := range d.peers {
			x, _ := ratio(r, p, base)
			per[p] = append(per[p], x)
		}
	}
	out := map[string]float64{}
	for p, xs := range per {
		out[p] = geomean(xs)
	}
	return out, n
}

// fmtTime formats nanoseconds like the README always has: 170.3 ns,
// 1.08 µs, 102.75 µs, 1.17 ms.
func fmtTime(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.1f ns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	case ns < 1e9:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	}
	return fmt.Sprintf("%.2f s", ns/1e9)
}

// fmtPct formats the ± column.
func fmtPct(r *row) string {
	xs := r.vals[base]["ns/op"]
	if len(xs) == 0 {
		return "–"
	}
	lo, hi := medianCI(xs, 0.95)
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return "∞"
	}
	return fmt.Sprintf("%.0f%%", 100*pctRange(median(xs), lo, hi))
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// writeTable writes the time-per-op table and the geomean line.
func (d *data) writeTable(b *strings.Builder) {
	runs := 0
	for _, r := range d.rows {
		runs = max(runs, r.runs(base, "ns/op"))
	}
	hdr := []string{fmt.Sprintf("benchmark (time/op, median of %d)", runs), base, "±"}
	align := []string{"---", "---:", "---:"}
	for _, l := range append(slices.Clone(d.peers), d.refs...) {
		hdr = append(hdr, l)
		align = append(align, "---:")
	}
	hdr = append(hdr, "best peer", base+" ÷ best peer", base+" ÷ gorilla")
	align = append(align, "---", "---:", "---:")
	for _, l := range d.refs {
		hdr = append(hdr, base+" ÷ "+l)
		align = append(align, "---:")
	}
	hdr = append(hdr, base+" B/op", base+" allocs/op")
	align = append(align, "---:", "---:")
	fmt.Fprintf(b, "| %s |\n|%s|\n", strings.Join(hdr, " | "), strings.Join(align, "|"))

	for _, r := range d.rows {
		cells := []string{r.label()}
		cells = append(cells, timeCell(r, base), fmtPct(r))
		for _, l := range append(slices.Clone(d.peers), d.refs...) {
			cells = append(cells, timeCell(r, l))
		}
		if p, _, ok := d.best(r); ok {
			cells = append(cells, p, ratioCell(r, base, p))
		} else {
			cells = append(cells, "–", "–")
		}
		cells = append(cells, ratioCell(r, base, "gorilla"))
		for _, l := range d.refs {
			cells = append(cells, ratioCell(r, base, l))
		}
		for _, u := range []string{"B/op", "allocs/op"} {
			if v, ok := r.med(base, u); ok {
				cells = append(cells, fmtNum(v))
			} else {
				cells = append(cells, "–")
			}
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
	}

	g, n := d.geomeans()
	b.WriteString("\n")
	if n == 0 {
		b.WriteString("No row has zerows and every peer, so there is no geometric mean.\n")
		return
	}
	var parts []string
	for _, p := range d.peers {
		parts = append(parts, fmt.Sprintf("%s %.2f", p, g[p]))
	}
	fmt.Fprintf(b, "Across the %d rows where zerows and all %d peers run, the geometric mean of each peer's time over zerows's is: %s (above 1: zerows is faster).\n",
		n, len(d.peers), strings.Join(parts, ", "))
}

func timeCell(r *row, lib string) string {
	if v, ok := r.med(lib, "ns/op"); ok {
		return fmtTime(v)
	}
	return "–"
}

func ratioCell(r *row, a, b string) string {
	if v, ok := ratio(r, a, b); ok {
		return fmt.Sprintf("%.2f", v)
	}
	return "–"
}
