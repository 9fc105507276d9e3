package webhook

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/models"
)

// identify names the event a raw body carries, so that every delivery of
// one event (a retry, a duplicate, the same body re-signed with a new
// timestamp) is stored once. Coinflow sends no event id: an event that
// decodes is identified by its own identity (inbox.Identity: type, subject,
// created), and what it says that matters by inbox.ContentHash. Anything
// else (an untracked type, a body that is not a readable event) is
// identified by the SHA-256 of its bytes and stored to be looked at. The
// decoded body is returned too: the applier takes it instead of decoding
// the stored bytes again.
func identify(body []byte) (models.InboxEvent, inbox.Parsed) {
	ev := models.InboxEvent{Body: body}
	p := inbox.Parse(body)
	v, err := p.Value, p.Err
	if err != nil {
		ev.DedupKey, ev.EventType = rawKey(body), inbox.PeekType(body)
		return ev, p
	}
	ev.DedupKey, ev.EventType = inbox.Identity(v), inbox.TypeOf(v)
	if h := inbox.ContentHash(v); h != "" {
		ev.ContentHash = &h
	}
	txn, user := inbox.Subject(v)
	ev.SubjectTransaction, ev.SubjectUserID = models.NonEmpty(txn), models.NonEmpty(user)
	return ev, p
}

// DedupKey is the key under which body is stored, and its event type ("" when
// it cannot be read).
func DedupKey(body []byte) (key, eventType string) {
	ev, _ := identify(body)
	return ev.DedupKey, ev.EventType
}

func rawKey(body []byte) string {
	sum := sha256.Sum256(body)
	return "raw:" + hex.EncodeToString(sum[:])
}
