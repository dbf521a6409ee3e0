package wasm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerows/websocket"
)

// TestDialUnderNode runs testdata/client, built for js/wasm, under Node.js
// against servers made with this library, and checks what the servers saw
// of it.
func TestDialUnderNode(t *testing.T) {
	js := setUpNode(t)
	wasm := js.build(t, "build", "./testdata/client")

	srv := newServers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := js.command(ctx, wasm)
	run.Env = append(os.Environ(), "ZEROWS_WASM_URL=ws"+strings.TrimPrefix(srv.URL, "http"))
	var stderr bytes.Buffer
	run.Stderr = &stderr
	out, err := run.Output()

	done := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "PASS "):
			t.Log(line)
		case strings.HasPrefix(line, "FAIL "):
			t.Error(line)
		case line == "DONE":
			done = true
		default:
			t.Log("client: " + line)
		}
	}
	if err != nil || !done {
		t.Fatalf("the client did not finish: %v\n%s", err, stderr.Bytes())
	}

	// What the servers saw of the client's closes.
	for id, want := range map[string]websocket.CloseError{
		"echo": {Code: 4001, Reason: "done"},
		// The client failed the connection with 1009, which a page may
		// not send: the browser closes without a code.
		"big": {Code: websocket.CloseNoStatusReceived},
	} {
		var ce *websocket.CloseError
		if got := srv.result(t, id); !errors.As(got, &ce) || *ce != want {
			t.Errorf("server %s: connection ended with %v, want %v", id, got, &want)
		}
	}
}

// TestPackageUnderNode runs the root package's tests named TestBrowser,
// which need js/wasm, under Node.js. Building the package's tests for
// js/wasm also keeps every test file of it building there.
func TestPackageUnderNode(t *testing.T) {
	js := setUpNode(t)
	wasm := js.build(t, "test", "-c", "..")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := js.command(ctx, wasm, "-test.run=^TestBrowser", "-test.v").CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("--- PASS: TestBrowser")) {
		t.Fatal("no TestBrowser test ran")
	}
}

// nodeJS runs programs built for js/wasm under Node.js.
type nodeJS struct {
	node, goBin, execJS string
}

func setUpNode(t *testing.T) nodeJS {
	node := findNode(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	goroot := goEnv(t, goBin, "GOROOT")
	execJS := filepath.Join(goroot, "lib", "wasm", "wasm_exec_node.js")
	if _, err := os.Stat(execJS); err != nil {
		execJS = filepath.Join(goroot, "misc", "wasm", "wasm_exec_node.js") // before Go 1.24
	}
	return nodeJS{node, goBin, execJS}
}

// build runs "go <verb> args... -o file" for js/wasm and returns the file.
func (n nodeJS) build(t *testing.T, verb string, args ...string) string {
	wasm := filepath.Join(t.TempDir(), "prog.wasm")
	cmd := exec.Command(n.goBin, append([]string{verb, "-o", wasm}, args...)...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s %s for js/wasm: %v\n%s", verb, strings.Join(args, " "), err, out)
	}
	return wasm
}

func (n nodeJS) command(ctx context.Context, wasm string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, n.node, append([]string{"--experimental-websocket", n.execJS, wasm}, args...)...)
}

// findNode returns the node binary to run, or skips the test when there is
// none with a WebSocket, unless ZEROWS_WASM_REQUIRED=1.
func findNode(t *testing.T) string {
	skip := t.Skipf
	if os.Getenv("ZEROWS_WASM_REQUIRED") == "1" {
		skip = t.Fatalf
	}
	node := os.Getenv("ZEROWS_NODE")
	if node == "" {
		var err error
		if node, err = exec.LookPath("node"); err != nil {
			skip("node not found on PATH (set ZEROWS_NODE): %v", err)
		}
	}
	probe := exec.Command(node, "--experimental-websocket", "-e", `process.exit(typeof WebSocket === "function" ? 0 : 3)`)
	if out, err := probe.CombinedOutput(); err != nil {
		skip("%s has no WebSocket class (Node.js 20 or later is needed): %v\n%s", node, err, out)
	}
	return node
}

func goEnv(t *testing.T, goBin, name string) string {
	out, err := exec.Command(goBin, "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// servers are what the client dials: /echo echoes with subprotocol
// "echo.v1", /close sends one message then closes with 4002, /ping pings
// and says whether the pong came, /big sends 2000 bytes, /sink reads
// nothing, /refuse answers 403. A connection dialed with ?id=x has its
// end recorded under x.
type servers struct {
	*httptest.Server
	mu      sync.Mutex
	results map[string]chan error
}

func newServers(t *testing.T) *servers {
	s := &servers{results: map[string]chan error{}}
	opts := &websocket.Options{Subprotocols: []string{"echo.v1"}, MaxMessageSize: 4 << 20, MailboxBytes: 8 << 20}
	mux := http.NewServeMux()
	mux.Handle("/echo", websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		for m := range ws.Messages() {
			if ws.SendMessage(m) != nil {
				break
			}
		}
		s.record(r, ws)
	}, opts))
	mux.Handle("/close", websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		ws.SendText("closing")
		ws.CloseWith(4002, "bye")
	}, opts))
	mux.Handle("/big", websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		ws.Send(make([]byte, 2000))
		ws.Wait()
		s.record(r, ws)
	}, opts))
	mux.Handle("/ping", websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := ws.Ping(ctx); err != nil {
			ws.SendText("ping failed: " + err.Error())
			return
		}
		ws.SendText("pong came")
		ws.Wait()
	}, opts))
	stop := make(chan struct{})
	mux.Handle("/sink", websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		<-stop // reads nothing until the test ends
	}, opts))
	mux.HandleFunc("/refuse", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(stop)
		s.Close()
	})
	return s
}

func (s *servers) ch(id string) chan error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.results[id] == nil {
		s.results[id] = make(chan error, 1)
	}
	return s.results[id]
}

func (s *servers) record(r *http.Request, ws *websocket.Conn) {
	if id := r.URL.Query().Get("id"); id != "" {
		<-ws.Done()
		s.ch(id) <- ws.Err()
	}
}

func (s *servers) result(t *testing.T, id string) error {
	select {
	case err := <-s.ch(id):
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("server %s: the connection did not end", id)
		return nil
	}
}
