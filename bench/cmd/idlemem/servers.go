package main

import (
	"context"
	"io"
	"net/http"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	zerows "github.com/zerows/websocket"
)

// Each server upgrades, calls parked once the connection is in its idle
// read loop, and reads in the library's documented everyday style, with
// default buffer sizes, until the peer goes away.
var servers = map[string]func(parked func()) http.Handler{
	"zerows":  zerowsServer,
	"gorilla": gorillaServer,
	"coder":   coderServer,
	"gobwas":  gobwasServer,
	"gws":     gwsServer,
}

var libs = []string{"zerows", "gorilla", "coder", "gobwas", "gws"}

func zerowsServer(parked func()) http.Handler {
	return zerows.Require(func(c *zerows.Conn, _ *http.Request) {
		parked()
		for range c.Messages() {
		}
	}, nil)
}

func gorillaServer(parked func()) http.Handler {
	var u gorilla.Upgrader
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		parked()
		for {
			_, rd, err := c.NextReader()
			if err != nil {
				return
			}
			if _, err := io.Copy(io.Discard, rd); err != nil {
				return
			}
		}
	})
}

func coderServer(parked func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		parked()
		for {
			_, rd, err := c.Reader(context.Background())
			if err != nil {
				return
			}
			if _, err := io.Copy(io.Discard, rd); err != nil {
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
			if _, _, err := wsutil.ReadClientData(conn); err != nil {
				return
			}
		}
	})
}

type gwsHandler struct{ gws.BuiltinEventHandler }

func gwsServer(parked func()) http.Handler {
	u := gws.NewUpgrader(gwsHandler{}, nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		parked()
		c.ReadLoop()
	})
}
