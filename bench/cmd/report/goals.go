package main

import (
	"fmt"
	"strings"
)

// check is one case of a goal: one row, or one thing that should have
// been measured and was not.
type check struct {
	label   string // "size=16B", "inflight=64/size=1KiB"
	value   string // "0.85× gobwas"
	ok      bool
	missing bool // not measured (or not as the goal asks): neither met nor failed
}

// goal is one of the goals with its checks on this run.
type goal struct {
	name, target string
	checks       []check
}

// verdict is "met" only when every case was measured and met.
func (g goal) verdict() string {
	var failed, missing []string
	for _, c := range g.checks {
		switch {
		case c.missing:
			missing = append(missing, c.label)
		case !c.ok:
			failed = append(failed, c.label)
		}
	}
	switch {
	case len(g.checks) == 0:
		return "not checked: nothing measured"
	case len(failed) > 0 && len(missing) > 0:
		return fmt.Sprintf("**not met**: %s; not measured: %s", strings.Join(failed, ", "), strings.Join(missing, ", "))
	case len(failed) > 0:
		return "**not met**: " + strings.Join(failed, ", ")
	case len(missing) > 0:
		return "not checked: " + strings.Join(missing, ", ")
	}
	return "met"
}

const idleConns = 10000

// goals evaluates the goals on d and the idlemem lines.
func (d *data) goals(idles []idle) []goal {
	return []goal{
		{"Mask speed vs gobwas", "≥ 1.0× at 1KiB, 64KiB, 1MiB", d.speedVs("Mask", []string{"1KiB", "64KiB", "1MiB"}, "gobwas", 1.0)},
		{"Mask speed vs copy()", "≥ 0.9× at 1KiB, 64KiB, 1MiB", d.speedVs("Mask", []string{"1KiB", "64KiB", "1MiB"}, "copy", 0.9)},
		{"Mask speed vs best peer", "≥ 1.2× at 64B", d.speedVs("Mask", []string{"64B"}, "", 1.2)},
		{"Receive speed vs best peer", "≥ 1.0× at 16B, 1KiB, 16KiB, 1MiB", d.speedVs("Receive", []string{"16B", "1KiB", "16KiB", "1MiB"}, "", 1.0)},
		{"Receive allocations", "≤ 1 alloc/msg", d.atMost("Receive", "allocs/op", func(*row) (float64, bool) { return 1, true })},
		{"Receive bytes allocated", "≤ payload + 64 B/msg", d.atMost("Receive", "B/op", payloadPlus64)},
		{"Send allocations", "0 allocs/op", d.atMost("Send", "allocs/op", func(*row) (float64, bool) { return 0, true })},
		{"Echo speed vs best peer, small", "≥ 1.2× at 16B, 1KiB", d.speedVs("Echo", []string{"16B", "1KiB"}, "", 1.2)},
		{"Echo speed vs best peer, large", "≥ 1.0× at 16KiB, 1MiB", d.speedVs("Echo", []string{"16KiB", "1MiB"}, "", 1.0)},
		{"Idle memory", fmt.Sprintf("≤ 8 KiB/conn at %d conns", idleConns), idleCheck(idles)},
		{"Idle memory, compression without context takeover", fmt.Sprintf("≤ zerows off + 1 KiB/conn at %d conns", idleConns), idleCompressionChecks(idles)},
		{"Idle memory, context takeover", fmt.Sprintf("< gws takeover at %d conns", idleConns), idleTakeoverChecks(idles)},
		{"Compressed echo speed vs best peer, same mode", "≥ 1.0× at 1KiB, 16KiB, 1MiB", d.speedVs("CompressedEcho", []string{"1KiB", "16KiB", "1MiB"}, "", 1.0)},
		{"Compressed receive speed vs best peer, same mode", "≥ 1.0× at 1KiB, 16KiB, 1MiB", d.speedVs("CompressedReceive", []string{"1KiB", "16KiB", "1MiB"}, "", 1.0)},
		{"Handshake upgrades/s vs gorilla", "≥ 1.2×", d.speedVs("Handshake", nil, "gorilla", 1.2)},
		{"Broadcast speed vs gorilla", "≥ 2.0×", d.speedVs("Broadcast", nil, "gorilla", 2.0)},
	}
}

// rowsOf returns bench's rows, only those with the given size= if size is
// not empty.
func (d *data) rowsOf(bench, size string) []*row {
	var out []*row
	for _, r := range d.rows {
		if r.bench == bench && (size == "" || keyValue(r.key, "size") == size) {
			out = append(out, r)
		}
	}
	return out
}

// speedVs checks zerows's speed over lib's (the best peer's when lib is
// "") on bench's rows of each size, or on all of bench's rows for nil
// sizes. Speed is the inverse of time per op, or upgrades/s where both
// report it.
func (d *data) speedVs(bench string, sizes []string, lib string, target float64) []check {
	var out []check
	if sizes == nil {
		rows := d.rowsOf(bench, "")
		if len(rows) == 0 {
			return []check{{label: bench, value: "not run", missing: true}}
		}
		for _, r := range rows {
			out = append(out, d.speedCheck(r, lib, target))
		}
		return out
	}
	for _, sz := range sizes {
		rows := d.rowsOf(bench, sz)
		if len(rows) == 0 {
			out = append(out, check{label: "size=" + sz, value: "not run", missing: true})
		}
		for _, r := range rows {
			out = append(out, d.speedCheck(r, lib, target))
		}
	}
	return out
}

// speedCheck checks zerows's speed over lib's (the best peer's for "")
// on r.
func (d *data) speedCheck(r *row, lib string, target float64) check {
	c := check{label: r.key}
	if c.label == "" {
		c.label = r.bench
	}
	other := lib
	if other == "" {
		other, _, _ = d.best(r)
	}
	z, okz := r.med(base, "ns/op")
	o, oko := r.med(other, "ns/op")
	zu, okzu := r.med(base, "upgrades/s")
	ou, okou := r.med(other, "upgrades/s")
	switch {
	case !okz:
		c.value, c.missing = base+" not run", true
	case other == "":
		c.value, c.missing = "no peer ran", true
	case !oko:
		c.value, c.missing = other+" not run", true
	default:
		v := o / z
		if okzu && okou && ou > 0 {
			v = zu / ou
		}
		c.value = fmt.Sprintf("%.2f× %s", v, other)
		c.ok = v >= target
	}
	return c
}

// atMost checks that zerows's median in unit is at most limit(row) on
// every row of bench.
func (d *data) atMost(bench, unit string, limit func(*row) (float64, bool)) []check {
	rows := d.rowsOf(bench, "")
	if len(rows) == 0 {
		return []check{{label: bench, value: "not run", missing: true}}
	}
	var out []check
	for _, r := range rows {
		c := check{label: r.key}
		if c.label == "" {
			c.label = r.bench
		}
		v, ok := r.med(base, unit)
		lim, okl := limit(r)
		switch {
		case !ok:
			c.value, c.missing = base+" not run", true
		case !okl:
			c.value, c.missing = "no size in name", true
		default:
			c.value = fmt.Sprintf("%s %s", fmtNum(v), unit)
			c.ok = v <= lim
		}
		out = append(out, c)
	}
	return out
}

func payloadPlus64(r *row) (float64, bool) {
	n, ok := parseSize(keyValue(r.key, "size"))
	return float64(n + 64), ok
}

func idleCheck(idles []idle) []check {
	for _, l := range idles {
		if l.lib != base || (l.mode != "off" && l.mode != "") || l.msgs != 0 {
			continue
		}
		c := check{label: fmt.Sprintf("%d conns", l.conns), value: fmt.Sprintf("%.2f KiB/conn", l.rssPerConn)}
		if l.conns != idleConns {
			c.missing = true
		} else {
			c.ok = l.rssPerConn <= 8
		}
		return []check{c}
	}
	return []check{{label: "idlemem", value: base + " not measured", missing: true}}
}

// writeGoals writes the goals table.
func writeGoals(b *strings.Builder, gs []goal) {
	b.WriteString("| goal | target | measured (zerows) | verdict |\n|---|---|---|---|\n")
	for _, g := range gs {
		var ms []string
		for _, c := range g.checks {
			ms = append(ms, c.label+": "+c.value)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", g.name, g.target, strings.Join(ms, "; "), g.verdict())
	}
}

// findIdle returns lib's idlemem line in mode after msgs messages.
func findIdle(idles []idle, lib, mode string, msgs int) (idle, bool) {
	for _, l := range idles {
		if l.lib == lib && l.mode == mode && l.msgs == msgs {
			return l, true
		}
	}
	return idle{}, false
}

// idleVs checks zerows in mode against other in otherMode, fresh (msgs
// 0) and after one message each way (msgs 1): ok(zerows KiB/conn, other
// KiB/conn) says whether the case is met.
func idleVs(idles []idle, mode, other, otherMode string, ok func(z, o float64) bool) []check {
	var out []check
	for msgs, when := range []string{"fresh", "after 1 msg"} {
		c := check{label: when}
		z, okz := findIdle(idles, base, mode, msgs)
		o, oko := findIdle(idles, other, otherMode, msgs)
		switch {
		case !okz:
			c.value, c.missing = base+" "+mode+" not measured", true
		case !oko:
			c.value, c.missing = other+" "+otherMode+" not measured", true
		default:
			c.value = fmt.Sprintf("%.2f vs %s %s %.2f KiB/conn", z.rssPerConn, other, otherMode, o.rssPerConn)
			c.missing = z.conns != idleConns || o.conns != idleConns
			c.ok = ok(z.rssPerConn, o.rssPerConn)
		}
		out = append(out, c)
	}
	return out
}

// idleCompressionChecks: zerows with compression and no context
// takeover costs at most 1 KiB per connection more than without.
func idleCompressionChecks(idles []idle) []check {
	return idleVs(idles, "no-takeover", base, "off", func(z, o float64) bool { return z <= o+1 })
}

// idleTakeoverChecks: zerows with context takeover costs less per
// connection than gws with context takeover and the same 32 KiB windows.
func idleTakeoverChecks(idles []idle) []check {
	return idleVs(idles, "takeover", "gws", "takeover", func(z, o float64) bool { return z < o })
}
