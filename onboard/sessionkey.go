package onboard

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/payoutd/payoutd/models"
)

// keyCache holds one Coinflow session key per user, in memory only: a key
// authorizes the user at Coinflow, so it is never written to the database
// or a log.
type keyCache struct {
	mu        sync.Mutex
	keys      map[string]*cachedKey
	lastPurge time.Time
}

type cachedKey struct {
	mu      sync.Mutex // one fetch per user at a time
	key     string
	expires time.Time
}

func newKeyCache() *keyCache { return &keyCache{keys: map[string]*cachedKey{}} }

// purgeEvery is how often expired keys are dropped, so the cache holds the
// users with a live key, not every user who ever had one.
const purgeEvery = 10 * time.Minute

func (c *keyCache) entry(userID string, now time.Time) *cachedKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastPurge) >= purgeEvery {
		for u, e := range c.keys {
			// TryLock: an entry being fetched is in use, not expired.
			if e.mu.TryLock() {
				if !now.Before(e.expires) {
					delete(c.keys, u)
				}
				e.mu.Unlock()
			}
		}
		c.lastPurge = now
	}
	e := c.keys[userID]
	if e == nil {
		e = &cachedKey{}
		c.keys[userID] = e
	}
	return e
}

// SessionKey returns a Coinflow session key for the withdrawer's front end
// and when it expires. A key is reused until SessionKeyMargin before its
// life ends, then a new one is fetched (GET /auth/session-key).
func (s *Service) SessionKey(ctx context.Context, userID string) (string, time.Time, error) {
	if _, err := s.store.WithdrawerGet(ctx, userID); errors.Is(err, models.ErrNotFound) {
		return "", time.Time{}, ErrNotRegistered
	} else if err != nil {
		return "", time.Time{}, err
	}
	now := s.store.Now()
	e := s.keys.entry(userID, now)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.key != "" && now.Before(e.expires.Add(-s.cfg.SessionKeyMargin)) {
		return e.key, e.expires, nil
	}
	key, err := s.cf.SessionKey(ctx, userID)
	if err != nil {
		return "", time.Time{}, classify(err)
	}
	// Coinflow documents the life (24 hours), not an expiry field: the
	// clock starts before the call, so payoutd never overstates it.
	e.key, e.expires = key, now.Add(s.cfg.SessionKeyLife).UTC()
	return e.key, e.expires, nil
}
