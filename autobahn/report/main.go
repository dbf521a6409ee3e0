// Command report summarises Autobahn TestSuite results (reports/*/index.json)
// per agent and per section, lists every case that is not OK, and exits 1 if
// there is one. A case passes when both its behavior and its closing behavior
// are OK, or INFORMATIONAL (which the suite gives only to cases whose outcome
// the RFC leaves open, such as 7.1.6 and 7.13.x). It exits 2 when there is
// nothing to read.
//
// Usage:
//
//	go run ./autobahn/report autobahn/reports/servers/index.json autobahn/reports/clients/index.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// result is one case in index.json.
type result struct {
	Behavior        string `json:"behavior"`
	BehaviorClose   string `json:"behaviorClose"`
	Duration        int    `json:"duration"`
	RemoteCloseCode *int   `json:"remoteCloseCode"`
	ReportFile      string `json:"reportfile"`
}

func passing(b string) bool { return b == "OK" || b == "INFORMATIONAL" }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: report index.json...")
		os.Exit(2)
	}
	bad, total := 0, 0
	for _, path := range os.Args[1:] {
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		var idx map[string]map[string]result
		if err := json.Unmarshal(b, &idx); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			os.Exit(2)
		}
		agents := keys(idx)
		for _, agent := range agents {
			n, nb := summarise(path, agent, idx[agent])
			total += n
			bad += nb
		}
	}
	if total == 0 {
		fmt.Fprintln(os.Stderr, "no cases in the reports")
		os.Exit(2)
	}
	fmt.Printf("%d passed, %d failed\n", total-bad, bad)
	if bad > 0 {
		os.Exit(1)
	}
}

// summarise prints one agent's table and its failing cases; it returns the
// number of cases and of failing ones.
func summarise(path, agent string, cases map[string]result) (int, int) {
	type row struct{ total, ok, info, nonStrict, failed, other int }
	rows := map[string]*row{}
	var bad []string
	ids := keys(cases)
	sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
	for _, id := range ids {
		r := cases[id]
		sec, _, _ := strings.Cut(id, ".")
		w := rows[sec]
		if w == nil {
			w = &row{}
			rows[sec] = w
		}
		w.total++
		switch {
		case passing(r.Behavior) && passing(r.BehaviorClose):
			if r.Behavior == "INFORMATIONAL" {
				w.info++
			} else {
				w.ok++
			}
			continue
		case r.Behavior == "NON-STRICT":
			w.nonStrict++
		case r.Behavior == "FAILED" || r.BehaviorClose == "FAILED":
			w.failed++
		default:
			w.other++
		}
		code := "none"
		if r.RemoteCloseCode != nil {
			code = strconv.Itoa(*r.RemoteCloseCode)
		}
		bad = append(bad, fmt.Sprintf("  %-8s behavior %s, close %s, remote close code %s (%s)", id, r.Behavior, r.BehaviorClose, code, r.ReportFile))
	}
	fmt.Printf("\nagent %s (%s)\n", agent, path)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "section\tcases\tOK\tINFORMATIONAL\tNON-STRICT\tFAILED\tother\t")
	secs := keys(rows)
	sort.Slice(secs, func(i, j int) bool { return idLess(secs[i], secs[j]) })
	for _, s := range secs {
		w := rows[s]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", s, w.total, w.ok, w.info, w.nonStrict, w.failed, w.other)
	}
	tw.Flush()
	if len(bad) > 0 {
		fmt.Printf("not OK:\n%s\n", strings.Join(bad, "\n"))
	}
	return len(ids), len(bad)
}

func keys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// idLess orders case ids numerically ("2.10" after "2.9").
func idLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea == nil && eb == nil {
			if na != nb {
				return na < nb
			}
			continue
		}
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}
