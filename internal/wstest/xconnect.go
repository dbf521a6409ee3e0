package wstest

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// XConnectSetting is the GODEBUG setting with which Go's HTTP/2 server
// offers extended CONNECT (RFC 8441): net/http reads GODEBUG from the
// environment once, when it is initialised, and looks for this string.
const XConnectSetting = "http2xconnect=1"

// XConnectEnabled reports whether this process started with
// XConnectSetting.
func XConnectEnabled() bool { return strings.Contains(os.Getenv("GODEBUG"), XConnectSetting) }

// SkipWithoutXConnect skips t when this Go's net/http has no extended
// CONNECT at all, whatever the setting: before Go 1.24.
func SkipWithoutXConnect(t *testing.T) {
	t.Helper()
	if !netHTTPHasXConnect {
		t.Skip("net/http has extended CONNECT (RFC 8441) from Go 1.24 on; this is " + runtime.Version())
	}
}

// InXConnectProcess reports whether this process's HTTP/2 servers offer
// extended CONNECT, so that test t can run here. If they do not, it runs t
// again in a copy of the test binary that starts with XConnectSetting,
// fails t if that run fails or runs nothing, and returns false: the
// setting cannot be turned on in a process that has started. args are
// added to that run's command line.
func InXConnectProcess(t *testing.T, args ...string) bool {
	t.Helper()
	SkipWithoutXConnect(t)
	if XConnectEnabled() {
		return true
	}
	args = append([]string{"-test.run=^" + regexp.QuoteMeta(t.Name()) + "$", "-test.count=1", "-test.v"}, args...)
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.Command(os.Args[0], args...)
	godebug := os.Getenv("GODEBUG")
	if godebug != "" {
		godebug += ","
	}
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug+XConnectSetting)
	out, err := cmd.CombinedOutput()
	if err == nil && strings.Contains(string(out), "--- SKIP: "+t.Name()+" ") {
		t.Skipf("skipped in the test process with GODEBUG=%s:\n%s", XConnectSetting, out)
	}
	passed := strings.Count(string(out), "--- PASS: ")
	if err != nil || passed == 0 {
		t.Fatalf("%s with GODEBUG=%s: %v, %d passed; its output but for passes:\n%s", t.Name(), XConnectSetting, err, passed, withoutPasses(out))
	}
	t.Logf("ran in a test process with GODEBUG=%s: %d tests and subtests passed", XConnectSetting, passed)
	return false
}

// withoutPasses drops the lines of a verbose test run that announce a
// test or its pass, which bury a failure among hundreds of cases.
func withoutPasses(out []byte) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(out), "\n") {
		switch trimmed := strings.TrimSpace(line); {
		case strings.HasPrefix(trimmed, "=== "), strings.HasPrefix(trimmed, "--- PASS: "):
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}
