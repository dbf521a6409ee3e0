module github.com/zerows/websocket

go 1.23
