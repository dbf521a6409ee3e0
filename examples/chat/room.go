package main

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"

	"github.com/zerows/websocket"
)

// event is one message to the pages, as JSON.
type event struct {
	Type    string   `json:"type"` // welcome, join, leave or message
	Room    string   `json:"room,omitempty"`
	Name    string   `json:"name,omitempty"`
	Text    string   `json:"text,omitempty"`
	Members []string `json:"members,omitempty"` // after a welcome, join or leave
}

// member is one connection in a room. The room never writes to the socket
// itself: it queues each message on out, and the member's own writer
// goroutine sends it, so a member whose network is slow holds up no one.
type member struct {
	name, room string
	ws         *websocket.Conn
	out        chan *websocket.PreparedMessage // closed when the member leaves
	left       bool                            // guarded by hub.mu
}

// hub holds the rooms. One mutex guards them all: nothing done under it
// blocks, since messages are only queued.
type hub struct {
	// queue is how many messages a member may have waiting; a member that
	// lets more pile up is too slow, and is dropped with 1008.
	queue int

	mu      sync.Mutex
	rooms   map[string]map[*member]bool
	closing bool           // shutting down: no one joins
	writers sync.WaitGroup // members' writer goroutines
}

// defaultQueue (64 messages) absorbs a burst of chat, and, with the socket
// buffers in front of it, a few seconds of a slow link.
const defaultQueue = 64

func newHub(queue int) *hub {
	return &hub{queue: max(queue, 2), rooms: map[string]map[*member]bool{}}
}

// join adds ws to room under name, or a numbered variant of it if the name
// is taken, and announces it. It returns nil if the hub is shutting down.
func (h *hub) join(room, name string, ws *websocket.Conn) *member {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil
	}
	members := h.rooms[room]
	if members == nil {
		members = map[*member]bool{}
		h.rooms[room] = members
	}
	unique := name
	for i := 2; h.taken(room, unique); i++ {
		unique = name + "-" + strconv.Itoa(i)
	}
	m := &member{name: unique, room: room, ws: ws, out: make(chan *websocket.PreparedMessage, h.queue)}
	members[m] = true
	m.out <- prepare(event{Type: "welcome", Room: room, Name: unique}) // out is empty: never blocks
	h.broadcastLocked(room, event{Type: "join", Name: unique, Members: h.namesLocked(room)})
	h.writers.Add(1)
	go m.write(&h.writers)
	return m
}

func (h *hub) taken(room, name string) bool {
	for m := range h.rooms[room] {
		if m.name == name {
			return true
		}
	}
	return false
}

// write sends the member's queued messages until it leaves.
func (m *member) write(wg *sync.WaitGroup) {
	defer wg.Done()
	for pm := range m.out {
		if m.ws.SendPrepared(pm) != nil {
			return // closed: the room drops the member when its queue fills, or when it leaves
		}
	}
}

// say sends text from m to everyone in m's room, m included.
func (h *hub) say(m *member, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !m.left {
		h.broadcastLocked(m.room, event{Type: "message", Name: m.name, Text: text})
	}
}

// leave removes m from its room and announces it.
func (h *hub) leave(m *member) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(m)
}

func (h *hub) removeLocked(m *member) {
	if m.left {
		return
	}
	m.left = true
	close(m.out)
	delete(h.rooms[m.room], m)
	if len(h.rooms[m.room]) == 0 {
		delete(h.rooms, m.room)
		return
	}
	h.broadcastLocked(m.room, event{Type: "leave", Name: m.name, Members: h.namesLocked(m.room)})
}

// broadcastLocked queues e for every member of room, framed once. A member
// whose queue is full is dropped: it is closed with 1008 in the
// background and its leaving announced, so the others never wait for it.
func (h *hub) broadcastLocked(room string, e event) {
	pm := prepare(e)
	var slow []*member
	for m := range h.rooms[room] {
		select {
		case m.out <- pm:
		default:
			slow = append(slow, m)
		}
	}
	for _, m := range slow {
		go m.ws.CloseWith(websocket.ClosePolicyViolation, "too slow: messages piled up")
		h.removeLocked(m)
	}
}

// names lists the members of room, sorted.
func (h *hub) names(room string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.namesLocked(room)
}

func (h *hub) namesLocked(room string) []string {
	names := []string{}
	for m := range h.rooms[room] {
		names = append(names, m.name)
	}
	slices.Sort(names)
	return names
}

// shutdown closes every member's connection with 1001 going away, and
// waits for the closing handshakes (each bounded by CloseTimeout) and the
// writers to end. No one can join afterwards.
func (h *hub) shutdown() {
	h.mu.Lock()
	h.closing = true
	var all []*member
	for _, members := range h.rooms {
		for m := range members {
			all = append(all, m)
		}
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, m := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.ws.CloseWith(websocket.CloseGoingAway, "server shutting down")
		}()
	}
	wg.Wait()
	for _, m := range all {
		h.leave(m)
	}
	h.writers.Wait()
}

// prepare frames e once for every member it goes to.
func prepare(e event) *websocket.PreparedMessage {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // an event always marshals
	}
	return websocket.NewPreparedMessage(websocket.MessageText, b)
}
