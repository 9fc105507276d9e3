package inbox

import (
	"sync"

	"github.com/payoutd/payoutd/models"
)

// Parsed is a body read once: what Decode returned for it. The webhook
// endpoint decodes every body to name it; it hands the result to the
// applier with the stored event's id, so the applier does not decode the
// same bytes again.
type Parsed struct {
	Value any
	Err   error
}

// Parse decodes body.
func Parse(body []byte) Parsed {
	v, err := Decode(body)
	return Parsed{Value: v, Err: err}
}

// parsedCache holds the decoded bodies of events this process stored and
// has not applied yet, by event id. It is bounded: it keeps two
// generations, and when the current one fills it drops the older. What it
// dropped, and the events other processes stored, are decoded from their
// stored body; the cache only saves work, never decides anything.
type parsedCache struct {
	mu       sync.Mutex
	limit    int
	cur, old map[int64]Parsed
}

func newParsedCache(limit int) *parsedCache {
	return &parsedCache{limit: max(limit, 1), cur: map[int64]Parsed{}}
}

func (c *parsedCache) put(id int64, p Parsed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.limit {
		c.old, c.cur = c.cur, make(map[int64]Parsed, c.limit)
	}
	c.cur[id] = p
}

// take returns and forgets id's entry.
func (c *parsedCache) take(id int64) (Parsed, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cur[id]; ok {
		delete(c.cur, id)
		return p, true
	}
	if p, ok := c.old[id]; ok {
		delete(c.old, id)
		return p, true
	}
	return Parsed{}, false
}

// Stored tells the applier that the events were committed (their IDs set)
// with these decoded bodies, and wakes it.
func (a *Applier) Stored(evs []models.InboxEvent, parsed []Parsed) {
	for i := range evs {
		if evs[i].ID != 0 && i < len(parsed) {
			a.cache.put(evs[i].ID, parsed[i])
		}
	}
	a.Notify()
}

// parsed is ev's decoded body: from the endpoint when this process stored
// it, else decoded now from the stored bytes.
func (a *Applier) parsed(ev *models.InboxEvent) Parsed {
	if p, ok := a.cache.take(ev.ID); ok {
		return p
	}
	return Parse(ev.Body)
}
