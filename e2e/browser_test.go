package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestBrowser runs every scenario in one chromium, one tab each.
func TestBrowser(t *testing.T) {
	if testing.Short() && os.Getenv(requiredVar) != "1" {
		t.Skip("browser tests take a while: skipped with -short")
	}
	b := startBrowser(t)
	t.Run("download", func(t *testing.T) { testDownload(t, b) })
	t.Run("interrupted", func(t *testing.T) { testInterrupted(t, b) })
	t.Run("echo", func(t *testing.T) { testEcho(t, b) })
	t.Run("chat", func(t *testing.T) { testChat(t, b) })
}

// testDownload presses Start on the demo, sees the progress move with
// Start disabled, and the download complete.
func testDownload(t *testing.T, b *browser) {
	demo := startExample(t, "download")
	p := b.open(t, demo.url)
	defer p.close()

	p.waitFor(`document.body.dataset.state === "ready" && !document.getElementById("start").disabled`)
	// Records each state the page goes through, with Start's, however
	// slowly the polls below come on a loaded machine.
	p.run(`window.seen = [];
		new MutationObserver(() => seen.push(document.body.dataset.state + (document.getElementById("start").disabled ? " disabled" : " enabled")))
			.observe(document.body, {attributes: true, attributeFilter: ["data-state"]})`)
	p.run(`document.getElementById("start").click()`)
	p.waitFor(`document.body.dataset.state === "done"`)
	if seen := p.text(`seen.join(", ")`); seen != "running disabled, done disabled" {
		t.Errorf("states after Start: %s; want running then done, Start disabled in both", seen)
	}
	if s := p.text(`document.getElementById("status").textContent`); s != "download complete" {
		t.Errorf("status %q, want download complete", s)
	}
	if s := p.text(`document.getElementById("pct").textContent + " " + document.getElementById("fill").style.width`); s != "100% 100%" {
		t.Errorf("bar %q, want 100%% 100%%", s)
	}
	// Every step reached the page, in order.
	var steps []string
	for i := 5; i <= 100; i += 5 {
		steps = append(steps, fmt.Sprintf("%d%%  %.1f MiB", i, float64(i)/5))
	}
	if log := p.text(`document.getElementById("log").textContent`); !strings.Contains(log, strings.Join(steps, "\n")) {
		t.Errorf("log lacks the 20 steps in order:\n%s", log)
	}
	for _, id := range []string{"speed", "elapsed"} {
		if s := p.text(`document.getElementById("` + id + `").textContent`); !strings.HasSuffix(s, "s") {
			t.Errorf("%s shows %q", id, s)
		}
	}
	p.waitFor(`!document.getElementById("reset").hidden && document.getElementById("start").hidden`)
	// The bar's last step has finished moving.
	p.waitFor(`getComputedStyle(document.getElementById("fill")).width === getComputedStyle(document.getElementById("bar")).width`)
	p.screenshot("download-complete.png")

	p.run(`document.getElementById("reset").click()`)
	p.waitFor(`document.body.dataset.state === "ready" && !document.getElementById("start").disabled && document.getElementById("pct").textContent === "0%"`)
}

// testInterrupted stops the server in the middle of a download: the page
// says the download was interrupted and offers to reconnect.
func testInterrupted(t *testing.T, b *browser) {
	demo := startExample(t, "download", "-step", "2s") // 40 s in all: stopped long before
	p := b.open(t, demo.url)
	defer p.close()

	p.waitFor(`document.body.dataset.state === "ready"`)
	p.run(`document.getElementById("start").click()`)
	p.waitFor(`document.body.dataset.state === "running" && parseInt(document.getElementById("pct").textContent) >= 5`)
	demo.interrupt(t)
	p.waitFor(`document.body.dataset.state === "interrupted"`)
	status := p.text(`document.getElementById("status").textContent`)
	if !strings.Contains(status, "download interrupted at") || !strings.Contains(status, "connection lost") {
		t.Errorf("status %q, want connection lost, download interrupted", status)
	}
	p.waitFor(`!document.getElementById("reconnect").hidden && document.getElementById("start").hidden`)
	p.screenshot("download-interrupted.png")

	// Reconnecting to a server that is gone fails, and says so.
	p.run(`document.getElementById("reconnect").click()`)
	p.waitFor(`document.body.dataset.state === "disconnected" && !document.getElementById("reconnect").hidden`)
}

// echoScript runs in a page: it opens a WebSocket to url offering two
// subprotocols, sends text and binary messages of each size in turn,
// checks that each comes back equal and of the same type, closes with
// 1000, and resolves to what it saw.
const echoScript = `(async (url, sizes) => {
  const ws = new WebSocket(url, ["superchat", "chat"]);
  ws.binaryType = "arraybuffer";
  const opened = new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error("WebSocket error")); });
  const closed = new Promise((ok) => { ws.onclose = (e) => ok({code: e.code, reason: e.reason, wasClean: e.wasClean}); });
  let next;
  ws.onmessage = (e) => next(e.data);
  const echo = (data) => new Promise((ok) => { next = ok; ws.send(data); });
  await opened;
  const seen = [];
  for (const n of sizes) {
    // Text with 1-, 2- and 3-byte UTF-8 characters, n characters long.
    const text = Array.from({length: n}, (_, i) => "aé€"[i % 3]).join("");
    const gotText = await echo(text);
    seen.push({kind: "text", n, ok: typeof gotText === "string" && gotText === text});
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = (i * 7 + (i >> 8)) & 255;
    const got = await echo(bytes.buffer);
    const ok = got instanceof ArrayBuffer && got.byteLength === n && new Uint8Array(got).every((v, i) => v === bytes[i]);
    seen.push({kind: "binary", n, ok});
  }
  const protocol = ws.protocol;
  ws.close(1000, "done");
  return {protocol, seen, close: await closed};
})`

func testEcho(t *testing.T, b *browser) {
	echo := startExample(t, "echo", "-subprotocols", "chat,superchat")
	// A page of the echo server's own origin, which its Origin check
	// accepts: the 400 it answers to a plain GET.
	p := b.open(t, "http"+strings.TrimPrefix(echo.url, "ws"))
	defer p.close()

	runEchoPage(t, p, echo.url)
}

// testChat opens the chat in two tabs: a message typed in one appears in
// both, and closing a tab updates the other's member list.
func testChat(t *testing.T, b *browser) {
	chat := startExample(t, "chat")
	alice := b.open(t, chat.url+"?room=e2e&name=alice")
	defer alice.close()
	alice.waitFor(`document.body.dataset.state === "open" && document.getElementById("members").innerText === "alice (you)"`)
	bob := b.open(t, chat.url+"?room=e2e&name=bob")
	bob.waitFor(`document.body.dataset.state === "open" && document.getElementById("members").innerText === "alice\nbob (you)"`)
	alice.waitFor(`document.getElementById("members").innerText === "alice (you)\nbob"`)
	alice.waitFor(`document.getElementById("messages").innerText.includes("bob joined")`)

	alice.typeText("#text", "hello from alice <b>not bold</b>")
	alice.pressEnter()
	want := `alicehello from alice <b>not bold</b>`
	for _, p := range []*page{alice, bob} {
		p.waitFor(`[...document.querySelectorAll("#messages li")].some((li) => li.textContent === ` + jsString(want) + `)`)
	}
	alice.waitFor(`document.getElementById("text").value === ""`)
	bob.typeText("#text", "hi alice")
	bob.run(`document.getElementById("send").click()`)
	alice.waitFor(`document.getElementById("messages").lastElementChild.textContent === "bobhi alice"`)
	alice.screenshot("chat.png")

	bob.close()
	alice.waitFor(`document.getElementById("members").innerText === "alice (you)" && document.getElementById("messages").lastElementChild.textContent === "bob left"`)

	// Joining through the page's form.
	carol := b.open(t, chat.url)
	defer carol.close()
	carol.waitFor(`!document.getElementById("join").hidden && document.getElementById("chat").hidden`)
	carol.typeText(`input[name="name"]`, "carol")
	carol.run(`document.querySelector('input[name="room"]').value = ""`)
	carol.typeText(`input[name="room"]`, "e2e")
	carol.pressEnter()
	carol.waitFor(`location.search === "?name=carol&room=e2e" && document.body.dataset.state === "open"`)
	alice.waitFor(`document.getElementById("members").innerText === "alice (you)\ncarol"`)

	chat.interrupt(t)
	alice.waitFor(`document.body.dataset.state === "closed" && document.getElementById("text").disabled`)
	if s := alice.text(`document.getElementById("status").textContent`); !strings.Contains(s, "server shut down (1001)") {
		t.Errorf("status after the server stopped: %q, want 1001", s)
	}
}

// echoSizes are the message lengths echoScript round-trips: each frame
// length encoding, both sides of each boundary, and 1 MiB.
var echoSizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 20}

// echoResult is what echoScript returns: the subprotocol, each echo and
// whether it came back equal, and how the WebSocket closed.
type echoResult struct {
	Protocol string
	Seen     []struct {
		Kind string
		N    int
		OK   bool
	}
	Close struct {
		Code     int
		Reason   string
		WasClean bool
	}
}

// runEchoPage runs echoScript on page p against the echo server at url
// and checks what the page saw: the subprotocol "chat", every text and
// binary message back unchanged, and a clean 1000 close.
func runEchoPage(t *testing.T, p *page, url string) echoResult {
	t.Helper()
	var got echoResult
	sizesJSON := strings.ReplaceAll(fmt.Sprint(echoSizes), " ", ",")
	if err := p.eval(echoScript+"("+jsString(url)+", "+sizesJSON+")", &got); err != nil {
		t.Fatal(err)
	}
	if got.Protocol != "chat" {
		t.Errorf("subprotocol %q, want chat (the server's first choice)", got.Protocol)
	}
	if len(got.Seen) != 2*len(echoSizes) {
		t.Errorf("%d echoes, want %d", len(got.Seen), 2*len(echoSizes))
	}
	for _, s := range got.Seen {
		if !s.OK {
			t.Errorf("%s message of %d: came back different", s.Kind, s.N)
		}
	}
	if c := got.Close; c.Code != 1000 || !c.WasClean || c.Reason != "done" {
		t.Errorf("close: %+v, want a clean 1000 done", c)
	}
	return got
}
