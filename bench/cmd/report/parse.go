package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// sample is one line of go test -bench output.
type sample struct {
	bench  string             // "Receive": the top-level name without "Benchmark"
	lib    string             // the value of the lib= part
	key    string             // the other parts, "/"-joined: "role=server/size=16B"
	values map[string]float64 // unit -> value: "ns/op", "B/op", "allocs/op", ...
}

// file is a parsed go test -bench output file.
type file struct {
	// config holds the file's "key: value" lines (goos, cpu, and what
	// run.sh adds). A key that appears more than once keeps its last value.
	config  map[string]string
	samples []sample
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads go test -bench output. Lines that are neither results
// nor configuration (PASS, ok, test logs) are skipped. A result line whose
// name has no lib= part is skipped too: every row is lib against lib.
func parseBench(r io.Reader) (*file, error) {
	f := &file{config: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	pending := "" // a benchmark name printed on a line of its own
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if k, v, ok := configLine(line); ok {
			f.config[k] = v
			continue
		}
		if strings.HasPrefix(fields[0], "Benchmark") {
			if len(fields) == 1 {
				pending = fields[0]
				continue
			}
			pending = ""
			s, ok, err := parseResult(fields[0], fields[1:])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", ln, err)
			}
			if ok {
				f.samples = append(f.samples, s)
			}
			continue
		}
		// With -v, or when a benchmark logs, the name and its results
		// may come on separate lines.
		if pending != "" {
			if _, err := strconv.Atoi(fields[0]); err == nil {
				s, ok, err := parseResult(pending, fields)
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", ln, err)
				}
				if ok {
					f.samples = append(f.samples, s)
				}
				pending = ""
			}
		}
	}
	return f, sc.Err()
}

// configLine reports whether line is a "key: value" configuration line in
// the sense of the Go benchmark format: the key starts with a lower-case
// letter and holds no space or upper-case letter.
func configLine(line string) (key, value string, ok bool) {
	k, v, found := strings.Cut(line, ":")
	if !found || k == "" || k[0] < 'a' || k[0] > 'z' {
		return "", "", false
	}
	for _, c := range k {
		if c == ' ' || c == '\t' || (c >= 'A' && c <= 'Z') {
			return "", "", false
		}
	}
	return k, strings.TrimSpace(v), true
}

// parseResult parses a name and the fields after it: the iteration count,
// then value-unit pairs.
func parseResult(name string, rest []string) (sample, bool, error) {
	if len(rest) < 3 || len(rest)%2 != 1 {
		return sample{}, false, fmt.Errorf("%s: malformed result %q", name, strings.Join(rest, " "))
	}
	if _, err := strconv.Atoi(rest[0]); err != nil {
		return sample{}, false, fmt.Errorf("%s: iteration count %q", name, rest[0])
	}
	s := sample{values: map[string]float64{}}
	name = procSuffix.ReplaceAllString(strings.TrimPrefix(name, "Benchmark"), "")
	parts := strings.Split(name, "/")
	s.bench = parts[0]
	var keys []string
	for _, p := range parts[1:] {
		if v, ok := strings.CutPrefix(p, "lib="); ok {
			s.lib = v
			continue
		}
		keys = append(keys, p)
	}
	if s.lib == "" {
		return sample{}, false, nil
	}
	s.key = strings.Join(keys, "/")
	for i := 1; i+1 < len(rest); i += 2 {
		v, err := strconv.ParseFloat(rest[i], 64)
		if err != nil {
			return sample{}, false, fmt.Errorf("%s: value %q: %w", name, rest[i], err)
		}
		s.values[rest[i+1]] = v
	}
	return s, true, nil
}

// keyValue returns the value of the k= part of a row key, or "".
func keyValue(key, k string) string {
	for _, p := range strings.Split(key, "/") {
		if v, ok := strings.CutPrefix(p, k+"="); ok {
			return v
		}
	}
	return ""
}

// parseSize turns "16B", "1KiB", "64KiB", "1MiB" into bytes.
func parseSize(s string) (int64, bool) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "KiB"):
		mult, s = 1<<10, strings.TrimSuffix(s, "KiB")
	case strings.HasSuffix(s, "MiB"):
		mult, s = 1<<20, strings.TrimSuffix(s, "MiB")
	case strings.HasSuffix(s, "GiB"):
		mult, s = 1<<30, strings.TrimSuffix(s, "GiB")
	case strings.HasSuffix(s, "B"):
		s = strings.TrimSuffix(s, "B")
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n * mult, true
}

// idle is one line of cmd/idlemem output: a library in one compression
// mode, before (msgs 0) or after (msgs 1) one message each way.
type idle struct {
	lib        string
	mode       string // "off" when the output has no mode column
	msgs       int
	conns      int
	rssPerConn float64 // KiB
	goPerConn  float64 // KiB, Go heap+stack
}

// parseIdlemem reads cmd/idlemem's table: a header whose column names are
// separated by two or more spaces, then one line per library and mode.
// Output from before the mode and msgs columns reads as mode off, msgs 0.
func parseIdlemem(r io.Reader) ([]idle, error) {
	sc := bufio.NewScanner(r)
	sep := regexp.MustCompile(`\s{2,}`)
	var cols []string
	var out []idle
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if cols == nil {
			if strings.HasPrefix(line, "lib ") {
				cols = sep.Split(line, -1)
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) != len(cols) {
			return nil, fmt.Errorf("idlemem: %d fields under %d columns: %q", len(f), len(cols), line)
		}
		d := idle{lib: f[0], mode: "off"}
		for i, c := range cols {
			var err error
			switch c {
			case "mode":
				d.mode = f[i]
			case "msgs":
				d.msgs, err = strconv.Atoi(f[i])
			case "conns":
				d.conns, err = strconv.Atoi(f[i])
			case "RSS KiB/conn":
				d.rssPerConn, err = strconv.ParseFloat(f[i], 64)
			case "Go heap+stack KiB/conn":
				d.goPerConn, err = strconv.ParseFloat(f[i], 64)
			}
			if err != nil {
				return nil, fmt.Errorf("idlemem: %s %q: %w", c, f[i], err)
			}
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cols == nil {
		return nil, fmt.Errorf("idlemem: no header line")
	}
	return out, nil
}
