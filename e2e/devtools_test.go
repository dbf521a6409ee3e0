package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerows/websocket"
)

// A DevTools protocol driver, just enough for these tests: one WebSocket
// to the browser, pages attached as flattened sessions on it, and
// Runtime.evaluate to act on a page and to poll its state.
// https://chromedevtools.github.io/devtools-protocol/

// Generous bounds, for a loaded two-core machine: each is only reached
// when something is broken.
const (
	startTimeout = 60 * time.Second // chromium writes DevToolsActivePort
	callTimeout  = 60 * time.Second // one DevTools command
	waitTimeout  = 60 * time.Second // a page reaches a state
	pollInterval = 50 * time.Millisecond
)

// chromiumFlags keep a headless chromium quiet, offline but for loopback,
// and independent of any profile.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu",
	"--disable-background-networking", "--disable-component-update",
	"--no-first-run", "--disable-sync", "--disable-quic",
	"--remote-debugging-port=0", "--window-size=900,760",
}

// requiredVar names the variable that turns a missing chromium from a skip
// into a failure, for CI.
const requiredVar = "ZEROWS_BROWSER_REQUIRED"

// findChromium returns the browser's path, or skips (fails when
// requiredVar is 1) if there is none. ZEROWS_CHROMIUM overrides the path.
func findChromium(t *testing.T) string {
	t.Helper()
	name := os.Getenv("ZEROWS_CHROMIUM")
	if name == "" {
		name = "chromium"
	}
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("no browser: %v; install Debian's chromium (bash e2e/install-chromium.sh) or set ZEROWS_CHROMIUM", err)
	if os.Getenv(requiredVar) == "1" {
		t.Fatalf("%s (%s=1 makes this a failure)", msg, requiredVar)
	}
	t.Skipf("%s; %s=1 makes this a failure", msg, requiredVar)
	return ""
}

// browser is a running headless chromium and the DevTools connection to it.
type browser struct {
	ws *websocket.Conn

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan reply
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// startBrowser starts chromium with a fresh profile, and flags added to
// chromiumFlags, connects to it, and stops it when the test ends.
func startBrowser(t *testing.T, flags ...string) *browser {
	t.Helper()
	path := findChromium(t)
	profile := t.TempDir()
	args := append(append(slices.Clone(chromiumFlags), flags...), "--user-data-dir="+profile, "about:blank")
	cmd := exec.Command(path, args...)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	// Registered after TempDir's cleanup, so it runs first: the profile is
	// removed only once chromium has exited.
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	// DevToolsActivePort holds the port and the browser's WebSocket path,
	// one per line, once chromium listens.
	var port, wsPath string
	deadline := time.Now().Add(startTimeout)
	for {
		b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort"))
		if lines := strings.Split(string(b), "\n"); err == nil && len(lines) >= 2 && strings.HasPrefix(lines[1], "/devtools/") {
			port, wsPath = lines[0], strings.TrimSpace(lines[1])
			break
		}
		select {
		case <-exited:
			t.Fatalf("chromium exited before listening:\n%s", stderr)
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromium wrote no DevToolsActivePort in %v:\n%s", startTimeout, stderr)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	// Screenshots come back as one base64 message of a few MiB.
	ws, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+port+wsPath, &websocket.Options{MaxMessageSize: 64 << 20})
	if err != nil {
		t.Fatalf("connecting to chromium: %v\n%s", err, stderr)
	}
	t.Cleanup(func() { ws.CloseWith(websocket.CloseGoingAway, "") })
	b := &browser{ws: ws, pending: map[int64]chan reply{}}
	go b.readReplies()
	return b
}

// readReplies hands each reply to the call waiting for it. Events are
// read and dropped: the tests poll the page instead.
func (b *browser) readReplies() {
	for m := range b.ws.Messages() {
		var r struct {
			ID int64 `json:"id"`
			reply
		}
		if json.Unmarshal(m.Data, &r) != nil || r.ID == 0 {
			continue
		}
		b.mu.Lock()
		ch := b.pending[r.ID]
		delete(b.pending, r.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- r.reply
		}
	}
}

// call sends one command, to the browser if session is "" or else to that
// page, and decodes its result into out (if not nil).
func (b *browser) call(session, method string, params, out any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
	}()

	msg, err := json.Marshal(struct {
		ID        int64  `json:"id"`
		SessionID string `json:"sessionId,omitempty"`
		Method    string `json:"method"`
		Params    any    `json:"params,omitempty"`
	}{id, session, method, params})
	if err != nil {
		return err
	}
	if err := b.ws.SendText(string(msg)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, r.Error.Message, r.Error.Code)
		}
		if out == nil {
			return nil
		}
		return json.Unmarshal(r.Result, out)
	case <-b.ws.Done():
		return fmt.Errorf("%s: connection to chromium lost: %w", method, b.ws.Err())
	case <-time.After(callTimeout):
		return fmt.Errorf("%s: no reply in %v", method, callTimeout)
	}
}

// page is one tab, driven through its own session.
type page struct {
	t        *testing.T
	b        *browser
	targetID string
	session  string
}

// open opens url in a new tab.
func (b *browser) open(t *testing.T, url string) *page {
	t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call("", "Target.createTarget", map[string]any{"url": url}, &target); err != nil {
		t.Fatal(err)
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatal(err)
	}
	p := &page{t: t, b: b, targetID: target.TargetID, session: attached.SessionID}
	p.waitFor(`document.readyState === "complete" && location.href === ` + jsString(url))
	return p
}

// close closes the tab, as a user closing it would.
func (p *page) close() {
	p.t.Helper()
	if err := p.b.call("", "Target.closeTarget", map[string]any{"targetId": p.targetID}, nil); err != nil {
		p.t.Fatal(err)
	}
}

// eval evaluates expr in the page, awaiting it if it is a promise, and
// decodes its value into out (if not nil).
func (p *page) eval(expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	params := map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}
	if err := p.b.call(p.session, "Runtime.evaluate", params, &r); err != nil {
		return err
	}
	if e := r.ExceptionDetails; e != nil {
		return fmt.Errorf("%s: %s %s", expr, e.Text, e.Exception.Description)
	}
	if out == nil || r.Result.Value == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// run evaluates expr and fails the test on an exception.
func (p *page) run(expr string) {
	p.t.Helper()
	if err := p.eval(expr, nil); err != nil {
		p.t.Fatal(err)
	}
}

// text returns the value of a string expression.
func (p *page) text(expr string) string {
	p.t.Helper()
	var s string
	if err := p.eval(expr, &s); err != nil {
		p.t.Fatal(err)
	}
	return s
}

// waitFor polls the page until the expression is true.
func (p *page) waitFor(expr string) {
	p.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var err error
	for {
		var ok bool
		if err = p.eval(expr, &ok); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(pollInterval) // polling the page: there is nothing to wait on
	}
	var body string
	p.eval(`document.body ? document.body.innerText : ""`, &body)
	p.t.Fatalf("after %v, still not %s (last error: %v); the page says:\n%s", waitTimeout, expr, err, body)
}

// typeText types s into the element matching selector, as a keyboard would.
func (p *page) typeText(selector, s string) {
	p.t.Helper()
	p.run(`document.querySelector(` + jsString(selector) + `).focus()`)
	if err := p.b.call(p.session, "Input.insertText", map[string]any{"text": s}, nil); err != nil {
		p.t.Fatal(err)
	}
}

// pressEnter sends an Enter key press to the focused element.
func (p *page) pressEnter() {
	p.t.Helper()
	for _, typ := range []string{"keyDown", "keyUp"} {
		key := map[string]any{"type": typ, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
		if typ == "keyDown" {
			key["text"] = "\r"
		}
		if err := p.b.call(p.session, "Input.dispatchKeyEvent", key, nil); err != nil {
			p.t.Fatal(err)
		}
	}
}

// screenshot saves a PNG of the page in the artifact directory and
// returns its path.
func (p *page) screenshot(name string) string {
	p.t.Helper()
	var shot struct {
		Data string `json:"data"`
	}
	if err := p.b.call(p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		p.t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(artifactDir(p.t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
	fmt.Fprintf(os.Stderr, "e2e: screenshot saved: %s\n", path)
	return path
}

// artifactDir is where screenshots go: $ZEROWS_ARTIFACTS if set (CI keeps
// it), or else a directory under the system's temporary directory that
// outlives the test, so that the pictures can be looked at.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("ZEROWS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "zerows-e2e")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var errNoURL = errors.New("printed no URL")
