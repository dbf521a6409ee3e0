package main

import (
	"context"
	"net/http"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	zerows "github.com/zerows/websocket"
)

// The compression modes a server may be measured in.
const (
	modeOff = "off"
	// permessage-deflate with no context takeover either way.
	modeNoTakeover = "no-takeover"
	// permessage-deflate with context takeover both ways and 32 KiB
	// windows.
	modeTakeover = "takeover"
	// gws's own default with context takeover: it tells both sides to
	// keep 4 KiB windows (server_max_window_bits and
	// client_max_window_bits 12).
	modeTakeover4K = "takeover-4k"
)

var modes = []string{modeOff, modeNoTakeover, modeTakeover, modeTakeover4K}

// Each server upgrades, calls parked once the connection is in its idle
// read loop, and echoes every message in the library's documented
// everyday style, with default buffer sizes, until the peer goes away.
// servers[lib][mode] makes the server; a library is measured only in the
// modes it has. coder and gobwas compress too, but only zerows, gorilla
// and gws are compared with compression.
var servers = map[string]map[string]func(parked func()) http.Handler{
	"zerows": {
		modeOff:        zerowsServer(zerows.CompressionOff),
		modeNoTakeover: zerowsServer(zerows.CompressionNoContextTakeover),
		modeTakeover:   zerowsServer(zerows.CompressionContextTakeover),
	},
	"gorilla": {
		modeOff:        gorillaServer(false),
		modeNoTakeover: gorillaServer(true), // gorilla has no context takeover
	},
	"coder":  {modeOff: coderServer},
	"gobwas": {modeOff: gobwasServer},
	"gws": {
		modeOff:        gwsServer(gws.PermessageDeflate{}),
		modeNoTakeover: gwsServer(gws.PermessageDeflate{Enabled: true}),
		modeTakeover: gwsServer(gws.PermessageDeflate{Enabled: true, ServerContextTakeover: true, ClientContextTakeover: true,
			ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}),
		modeTakeover4K: gwsServer(gws.PermessageDeflate{Enabled: true, ServerContextTakeover: true, ClientContextTakeover: true}),
	},
}

var libs = []string{"zerows", "gorilla", "coder", "gobwas", "gws"}

func zerowsServer(mode zerows.CompressionMode) func(parked func()) http.Handler {
	return func(parked func()) http.Handler {
		opts := &zerows.Options{Compression: mode}
		return zerows.Require(func(c *zerows.Conn, _ *http.Request) {
			parked()
			for m := range c.Messages() {
				if c.SendMessage(m) != nil {
					return
				}
			}
		}, opts)
	}
}

func gorillaServer(compress bool) func(parked func()) http.Handler {
	return func(parked func()) http.Handler {
		u := gorilla.Upgrader{EnableCompression: compress}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := u.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			parked()
			for {
				mt, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if err := c.WriteMessage(mt, p); err != nil {
					return
				}
			}
		})
	}
}

func coderServer(parked func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		parked()
		ctx := context.Background()
		for {
			mt, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, mt, p); err != nil {
				return
			}
		}
	})
}

func gobwasServer(parked func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		parked()
		for {
			p, op, err := wsutil.ReadClientData(conn)
			if err != nil {
				return
			}
			if err := wsutil.WriteServerMessage(conn, op, p); err != nil {
				return
			}
		}
	})
}

type gwsHandler struct{ gws.BuiltinEventHandler }

func (gwsHandler) OnMessage(c *gws.Conn, m *gws.Message) {
	_ = c.WriteMessage(m.Opcode, m.Bytes())
	_ = m.Close()
}

func gwsServer(pd gws.PermessageDeflate) func(parked func()) http.Handler {
	return func(parked func()) http.Handler {
		u := gws.NewUpgrader(gwsHandler{}, &gws.ServerOption{PermessageDeflate: pd})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := u.Upgrade(w, r)
			if err != nil {
				return
			}
			parked()
			c.ReadLoop()
		})
	}
}
