package inbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/reqlog"
	"github.com/payoutd/payoutd/models"
)

// Replay outcomes, as recorded in event_replays.outcome. Besides these, a
// replay that re-queued the event records the state it ended in
// (models.InboxApplied, InboxIgnored, InboxUnprocessable).
const (
	// ReplayUnchanged: nothing changed. An applied event was decided again
	// against the record as it stands and the decision changed nothing (its
	// effect is there, or later evidence moved past it: statuses never go
	// backwards); or a re-queued event ended in the state it was in.
	ReplayUnchanged = "unchanged"
	// ReplayDiffers: an applied event's decision, taken again, would change
	// the record (the columns are named after a colon). Nothing is written:
	// the event was applied once, and its history row (unique per event)
	// says so; this is for a person to look at.
	ReplayDiffers = "differs"
	// ReplayRetrying: the re-queued event failed to apply again; it stays
	// pending and the applier retries it with backoff, parking it after
	// MaxAttempts as usual.
	ReplayRetrying = "retrying"
	// ReplayPruned: the event's body was pruned by retention; it is left
	// as it was.
	ReplayPruned = "pruned"
)

// Replay applies stored event id again, on behalf of by, and records the
// replay (who, when, outcome) in event_replays. It never applies an
// event's effect twice:
//
//   - An applied event is decided again from the same evidence, inside a
//     transaction that writes nothing but the replay record: the outcome
//     is ReplayUnchanged, or ReplayDiffers naming what the decision would
//     change. The unique history row per inbox event is never written twice.
//   - Any other event (parked, unprocessable, ignored, pending) is
//     re-queued (pending, attempts reset, due now) and put through the
//     applier's own path (process) in the same transaction, in a savepoint:
//     the outcome is the state it ends in, or ReplayRetrying if it failed
//     again.
//
// The event's row is locked for the whole transaction (PostgreSQL; SQLite
// has one writer), so concurrent replays of one event, from any number of
// processes, take turns: the first applies it, the others find it applied
// and change nothing. The applier's claim skips a locked row. Replays are
// therefore never refused as "already running"; they queue.
//
// It returns models.ErrNotFound (wrapped) for an unknown id.
func (a *Applier) Replay(ctx context.Context, id int64, by string) (*models.EventReplay, error) {
	var rec *models.EventReplay
	err := a.store.Tx(ctx, func(tx *models.Store) error {
		ev, err := tx.InboxLock(ctx, id)
		if err != nil {
			return err
		}
		if rec, err = tx.EventReplayStart(ctx, id, by); err != nil {
			return err
		}
		var outcome string
		if ev.Status == models.InboxApplied {
			outcome, err = a.redecide(ctx, tx, ev)
		} else {
			outcome, err = a.requeueAndApply(ctx, tx, ev)
		}
		if err != nil {
			return err
		}
		return tx.EventReplayFinish(ctx, rec, outcome)
	})
	if err != nil {
		return nil, fmt.Errorf("replay inbox event %d: %w", id, err)
	}
	reqlog.Entry(ctx, a.log).WithFields(logrus.Fields{"inbox_event_id": id, "replayed_by": by, "outcome": *rec.Outcome}).Info("replayed webhook event")
	return rec, nil
}

// redecide takes the decision of applied event ev again, writing nothing.
func (a *Applier) redecide(ctx context.Context, tx *models.Store, ev *models.InboxEvent) (string, error) {
	decoded, err := Decode(ev.Body)
	if err != nil {
		// Applied once, unreadable now (a pruned body, or a stricter
		// decoder): there is nothing to decide again.
		return ReplayUnchanged, nil
	}
	var changed []string
	switch e := decoded.(type) {
	case *WithdrawEvent:
		c, err := tx.PayoutCandidatesFor(ctx, e.Signature, e.IdempotencyKey)
		if err != nil {
			return "", err
		}
		if changed, err = payoutChanges(c, e.Evidence(ev.ID)); err != nil {
			return "", err
		}
	case *RailEvent:
		p, err := tx.PayoutByCoinflowID(ctx, e.WithdrawID)
		if err != nil {
			return "", err
		}
		if p == nil {
			break // ignored when applied; nothing to decide again
		}
		if changed, err = payoutChanges(railCandidates(p), e.Evidence(ev.ID, p)); err != nil {
			return "", err
		}
	case *KYCEvent:
		cur, err := tx.WithdrawerForUpdate(ctx, e.UserID)
		if err != nil {
			return "", err
		}
		if d := decide.Withdrawer(cur, e.Evidence(ev.ID)); d.Changed {
			changed = []string{"withdrawer"}
		}
	}
	if len(changed) == 0 {
		return ReplayUnchanged, nil
	}
	slices.Sort(changed)
	return ReplayDiffers + ": " + strings.Join(changed, ","), nil
}

// payoutChanges decides w against candidates c and names what the decision
// would change: "payout" for a payout it would discover, else the columns.
func payoutChanges(c models.PayoutCandidates, w decide.Withdrawal) ([]string, error) {
	d, err := decide.Payout(c, w, models.NewID)
	if err != nil {
		return nil, err
	}
	if d.Discovered {
		return []string{"payout"}, nil
	}
	var changed []string
	for col := range models.PayoutColumnsChanged(d.Write.Old, d.Write.New) {
		changed = append(changed, col)
	}
	return changed, nil
}

// requeueAndApply makes ev pending again and processes it as the applier
// would, in a savepoint: a failure is rescheduled (attempts counted from
// zero again), not returned.
func (a *Applier) requeueAndApply(ctx context.Context, tx *models.Store, ev *models.InboxEvent) (string, error) {
	if ev.BodyPrunedAt != nil {
		// Retention cleared the body: nothing is left to apply, and
		// decoding nothing would only turn the event unprocessable.
		return ReplayPruned, nil
	}
	before := ev.Status
	if err := tx.InboxRequeue(ctx, ev.ID); err != nil {
		return "", err
	}
	ev.Status, ev.Attempts = models.InboxPending, 0
	var outcome models.InboxStatus
	err := tx.Savepoint(ctx, "replay_event", func() error {
		var err error
		var note string
		if outcome, note, err = a.process(ctx, tx, ev); err != nil {
			return err
		}
		if outcome == models.InboxApplied || outcome == models.InboxIgnored {
			return tx.InboxFinish(ctx, ev.ID, outcome, note)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, models.ErrUnavailable) {
			return "", err
		}
		parked, ferr := a.failed(ctx, tx, ev, err)
		if ferr != nil {
			return "", ferr
		}
		if parked {
			outcome = models.InboxParked
		} else {
			return ReplayRetrying, nil
		}
	}
	a.metrics.WebhookEventsProcessed.WithLabelValues(EventTypeLabel(ev.EventType), string(outcome)).Inc()
	if outcome == before {
		return ReplayUnchanged, nil
	}
	return string(outcome), nil
}
