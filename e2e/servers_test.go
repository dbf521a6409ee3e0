package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// The examples run as the programs a person starts, built once per test
// binary.
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
	buildOut  []byte
)

func buildExamples(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "zerows-e2e-bin")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+string(filepath.Separator),
			"github.com/zerows/websocket/examples/download",
			"github.com/zerows/websocket/examples/echo",
			"github.com/zerows/websocket/examples/chat")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building the examples: %v\n%s", buildErr, buildOut)
	}
	return binDir
}

// server is one example program, listening.
type server struct {
	cmd    *exec.Cmd
	url    string // the one it printed
	output *syncBuffer
	exited chan struct{}
}

// printedURL finds the first URL in a line an example prints at start-up.
var printedURL = regexp.MustCompile(`(?:https?|wss?)://\S+`)

// startExample starts the example name on a free port of 127.0.0.1 and
// waits for the URL it prints; it is killed when the test ends.
func startExample(t *testing.T, name string, args ...string) *server {
	t.Helper()
	bin := filepath.Join(buildExamples(t), name)
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, output: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, s.output)
		}
	})

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.output.Write(append(sc.Bytes(), '\n'))
			if u := printedURL.FindString(sc.Text()); u != "" {
				select {
				case found <- u:
				default:
				}
			}
		}
	}()
	select {
	case s.url = <-found:
	case <-s.exited:
		t.Fatalf("%s exited: %v\n%s", name, cmd.ProcessState, s.output)
	case <-time.After(startTimeout):
		t.Fatalf("%s %v", name, errNoURL)
	}
	return s
}

// interrupt stops the server as Ctrl-C would, and waits for it to exit.
func (s *server) interrupt(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(startTimeout):
		t.Fatalf("still running %v after an interrupt", startTimeout)
	}
}
