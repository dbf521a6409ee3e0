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

// member is one connection in a room.
type member struct {
	name, room string
	ws         *websocket.Conn
	left       bool // guarded by hub.mu
}

// room is a websocket.Group, which sends each message to every member
// without waiting for any of them, and the names of its members.
type room struct {
	group   websocket.Group
	members map[*member]bool
}

// hub holds the rooms. One mutex guards them all: nothing done under it
// blocks, since a Group only queues messages.
type hub struct {
	// queue is how many messages a member may have waiting; a member that
	// lets more pile up is too slow, and the Group drops it with 1008.
	queue int

	mu    sync.Mutex
	rooms map[string]*room
}

// defaultQueue (64 messages) absorbs a burst of chat, and, with the socket
// buffers in front of it, a few seconds of a slow link.
const defaultQueue = 64

func newHub(queue int) *hub {
	return &hub{queue: max(queue, 2), rooms: map[string]*room{}}
}

// join adds ws to the room named name, under name or a numbered variant of
// it if the name is taken: ws is welcomed, then everyone, ws included,
// hears that it joined.
func (h *hub) join(name, user string, ws *websocket.Conn) (*member, error) {
	h.mu.Lock()
	r := h.rooms[name]
	if r == nil {
		r = &room{members: map[*member]bool{}}
		r.group.MaxBacklog = h.queue
		h.rooms[name] = r
	}
	unique := user
	for i := 2; r.taken(unique); i++ {
		unique = user + "-" + strconv.Itoa(i)
	}
	m := &member{name: unique, room: name, ws: ws}
	r.members[m] = true // the name is taken from now on
	h.mu.Unlock()

	// The welcome goes before any room message: ws is not in the Group yet.
	if err := ws.SendPrepared(prepare(event{Type: "welcome", Room: name, Name: unique})); err != nil {
		h.leave(m)
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !m.left {
		r.group.Join(ws)
		h.broadcastLocked(r, event{Type: "join", Name: unique, Members: r.names()})
	}
	return m, nil
}

func (r *room) taken(name string) bool {
	for m := range r.members {
		if m.name == name {
			return true
		}
	}
	return false
}

// say sends text from m to everyone in m's room, m included.
func (h *hub) say(m *member, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !m.left {
		h.broadcastLocked(h.rooms[m.room], event{Type: "message", Name: m.name, Text: text})
	}
}

// leave removes m from its room and announces it.
func (h *hub) leave(m *member) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m.left {
		return
	}
	m.left = true
	r := h.rooms[m.room]
	r.group.Leave(m.ws)
	delete(r.members, m)
	if len(r.members) == 0 {
		delete(h.rooms, m.room)
		return
	}
	h.broadcastLocked(r, event{Type: "leave", Name: m.name, Members: r.names()})
}

// broadcastLocked queues e, framed once, for every member of r. The Group
// drops a member whose backlog is full (1008), whose handler then sees its
// connection end and leaves: the others never wait for it.
func (h *hub) broadcastLocked(r *room, e event) {
	r.group.Broadcast(prepare(e)) // an event is valid UTF-8: no error
}

// names lists the members of room, sorted.
func (h *hub) names(room string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[room]; r != nil {
		return r.names()
	}
	return []string{}
}

func (r *room) names() []string {
	names := []string{}
	for m := range r.members {
		names = append(names, m.name)
	}
	slices.Sort(names)
	return names
}

// prepare frames e once for every member it goes to.
func prepare(e event) *websocket.PreparedMessage {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // an event always marshals
	}
	return websocket.NewPreparedMessage(websocket.MessageText, b)
}
