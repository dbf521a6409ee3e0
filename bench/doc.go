// Package bench compares the throughput and allocations of
// github.com/zerows/websocket with four peers, each driven through its
// public API in its fastest documented style:
//
//   - gorilla/websocket v1.5.3: NextReader into a reused buffer,
//     WriteMessage, PreparedMessage.
//   - coder/websocket v1.8.15: Reader into a reused buffer, Write.
//   - gobwas/ws v1.5.0, low level: ReadHeaderBuffer, io.ReadFull into a
//     reused buffer and Cipher; WriteHeaderBuffer through a bufio.Writer;
//     CompileFrame for broadcast.
//   - lxzan/gws v1.8.9: ReadLoop with OnMessage, WriteMessage, Broadcaster.
//   - zerows: Wait, with Recycle once a message is done with; Send;
//     PreparedMessage with SendPrepared.
//
// It is a module of its own so that the library's go.mod never requires
// anything; the library comes in through a replace directive.
//
// # What is measured
//
// Every sub-benchmark is named lib=<name>/.../size=<16B|1KiB|16KiB|1MiB>
// (BenchmarkMask adds 64B and 64KiB), so that "benchstat -col /lib" puts
// the libraries side by side. All messages are binary (no UTF-8 check
// anywhere), uncompressed but in the Compressed benchmarks, with the
// libraries' default 4 KiB buffers; read limits are raised to 4 MiB where
// a library has one, so that 1 MiB messages pass.
//
//   - BenchmarkReceive: the server side reads masked client frames from an
//     in-memory net.Conn that replays a stream made by this package's own
//     frame encoder (frame_test.go), so no library decodes its own output.
//     One op is one whole message; MB/s is payload.
//   - BenchmarkSend (role=server|client): framing, masking for the client,
//     and the write of one message into an in-memory conn that discards
//     it. The client's handshake is answered by that conn. The timer runs
//     until every frame byte has reached the conn, so a library that
//     writes from a background goroutine is timed to the end.
//   - BenchmarkEcho (inflight=1|64): the library's client sends to the
//     library's server over 127.0.0.1 TCP and reads the echo back, with at
//     most 1 or 64 messages in flight. allocs/op is client and server
//     together.
//   - BenchmarkBroadcast (conns=1000): one message to 1000 server conns on
//     discarding in-memory conns, framed once where the library can
//     (PreparedMessage, CompileFrame, Broadcaster; coder has no such API
//     and writes each time). One op is the message to all 1000; MB/s counts
//     all 1000 copies; the timer again runs until every byte is written.
//   - BenchmarkFanout (stuck=0%|1%): one message to 1000 in-memory server
//     conns, 10 of which block every write in the 1% case, through each
//     library's non-waiting fan-out: zerows's Group, gorilla's hub loop
//     with a write deadline, gws's Broadcaster. Timed until every healthy
//     conn has every byte; stall-ms is the longest broadcast call. Run it
//     with -benchtime=2000x (README.md, "Fan-out with stuck members").
//   - BenchmarkHandshake (dialers=1|16): TCP connect, opening handshake
//     with the library's client and server over net/http, and teardown, on
//     127.0.0.1. It reports upgrades/s; having no payload, it is the one
//     benchmark without b.SetBytes.
//   - BenchmarkCompressedReceive and BenchmarkCompressedEcho
//     (mode=no-takeover|takeover, size=1KiB|16KiB|1MiB): permessage-deflate
//     (RFC 7692) with zerows, gorilla (EnableCompression; no takeover only)
//     and gws (PermessageDeflate, 32 KiB windows both ways), each at its
//     default level, BestSpeed. The payload is JSON text from
//     internal/corpus, cycling through several different messages so
//     that context takeover finds similar but not equal earlier ones.
//     Receive replays masked frames compressed by this package with
//     compress/flate; Echo is Echo's inflight=1 with compression on both
//     sides. MB/s is uncompressed payload; wire/msg is the frame bytes on
//     the wire over the payload bytes (Echo measures it, both ways, on a
//     recorded connection before the timed loop); cpu-ns/op is the CPU
//     time of the whole process per op (getrusage), which a shared
//     machine disturbs far less than the wall time. TestCompressedPeers
//     checks that every adapter negotiates the mode it is credited with
//     and sends every message compressed.
//   - BenchmarkMask: XOR masking of a buffer in place, one op per buffer,
//     at 64B and 64KiB as well as the usual sizes. Of the peers only gobwas
//     exports its masking (ws.Cipher). zerows's is unexported, but Go's
//     internal rule goes by import path, so this module may call the
//     library's internal/mask package, which every frame goes through.
//     lib=copy is copy() of the same bytes, for the memory bandwidth.
//
// Teardown in these benchmarks drops the TCP connection without a closing
// handshake for every library (zerows's endpoint closes the hijacked or
// dialed net.Conn before Close), so no case waits out a close timeout.
//
// The in-memory conns make Receive, Send and Broadcast measure the
// libraries rather than the kernel: a write to the discarding conn costs
// nothing, so a library that hands a large payload to the conn without
// copying it (writev, or a pre-framed message) shows a very high MB/s. Echo
// and Handshake include loopback TCP and the scheduler, and vary more from
// run to run on a small, noisy machine.
//
// TestPeers checks that every adapter really moves the bytes it is
// credited with. The command in cmd/idlemem measures a server's memory per
// idle connection, each library and compression mode in a child process
// of its own, fresh and after one message each way.
//
// # How to read it
//
// Run with -count=10 and compare medians with benchstat, columns by
// library (see README.md); run.sh does that for every benchmark, measures
// idle memory and CPU profiles, and regenerates README.md's results
// section and its goals table through cmd/report. Compare libraries only within one run on one
// machine; the absolute numbers mean little elsewhere.
package bench
