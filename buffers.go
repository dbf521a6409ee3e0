package websocket

import "sync"

// bufferPools holds one pool of *[]byte per buffer size in use: nearly
// always just the default. Connections borrow their read and write buffers
// only while they use them, so idle ones hold none.
var bufferPools sync.Map // int → *sync.Pool

func bufferPool(size int) *sync.Pool {
	if p, ok := bufferPools.Load(size); ok {
		return p.(*sync.Pool)
	}
	p, _ := bufferPools.LoadOrStore(size, &sync.Pool{New: func() any {
		b := make([]byte, size)
		return &b
	}})
	return p.(*sync.Pool)
}
