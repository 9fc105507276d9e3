package inbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
)

// applySet applies a claimed batch as a set: it decodes every event, loads
// every payout and withdrawer the batch names in one query each, decides
// the events in order in memory (each from the record as the events before
// it left it), and writes the outcome in a few statements
// (models.Store.PayoutWriteSet). The result is the one applying the events
// one by one gives; any error undoes the whole set and the caller redoes the
// batch one event at a time, which isolates a failing event.
//
// With lockNew, the withdrawals the batch may discover are locked first (see
// models.Store.PayoutLockNew), for a batch that collided with another
// applier's discovery.
func (a *Applier) applySet(ctx context.Context, tx *models.Store, evs []models.InboxEvent, lockNew bool) ([]finished, map[models.InboxStatus][]int64, error) {
	decoded := make([]Parsed, len(evs))
	var want evidenceKeys
	for i := range evs {
		decoded[i] = a.parsed(&evs[i])
		want.add(decoded[i].Value)
	}
	ws, err := loadWorkingSet(ctx, tx, &want, lockNew)
	if err != nil {
		return nil, nil, err
	}
	done := make([]finished, 0, len(evs))
	finish := map[models.InboxStatus][]int64{}
	for i := range evs {
		ev := &evs[i]
		outcome, note, err := a.decideInSet(ctx, tx, ws, ev, decoded[i])
		if err != nil {
			return nil, nil, err
		}
		switch {
		case outcome == models.InboxUnprocessable:
			// Marked, with its reason, by decideInSet.
		case note != "":
			if err := tx.InboxFinish(ctx, ev.ID, outcome, note); err != nil {
				return nil, nil, err
			}
		default:
			finish[outcome] = append(finish[outcome], ev.ID)
		}
		done = append(done, finished{eventType: ev.EventType, outcome: outcome, received: ev.ReceivedAt})
	}
	if err := ws.flush(ctx, tx); err != nil {
		return nil, nil, err
	}
	if ws.discovered > 0 {
		// One line a batch: under a burst of payouts made outside payoutd
		// a line each would cost more than applying them.
		a.log.WithField("payouts", ws.discovered).Info("discovered payouts from webhooks")
	}
	return done, finish, nil
}

// decideInSet is process for one event of a set: the same outcomes, with
// the record read from and the decision kept in the working set.
func (a *Applier) decideInSet(ctx context.Context, tx *models.Store, ws *workingSet, ev *models.InboxEvent, d Parsed) (models.InboxStatus, string, error) {
	switch {
	case errors.Is(d.Err, ErrUntracked):
		return models.InboxIgnored, "", nil
	case errors.Is(d.Err, ErrUnprocessable):
		return models.InboxUnprocessable, "", a.unprocessable(ctx, tx, ev, d.Err)
	case d.Err != nil:
		return "", "", d.Err
	}
	switch e := d.Value.(type) {
	case *WithdrawEvent:
		dec, err := decide.Payout(ws.candidates(e.Signature, e.IdempotencyKey), e.Evidence(ev.ID), models.NewID)
		if err != nil {
			return "", "", err
		}
		if ev.ConflictsWith != nil {
			f, err := a.conflictingCopy(ctx, tx, ev, e, dec.Write.New)
			if err != nil {
				return "", "", err
			}
			dec.Write.Raise = append(dec.Write.Raise, f)
		}
		ws.keep(dec.Write, tx.Now())
		if dec.Discovered {
			ws.discovered++
			a.log.WithFields(logrus.Fields{"payout_id": dec.Write.New.ID, "status": dec.Write.New.Status}).Debug("discovered payout from webhook")
		}
	case *KYCEvent:
		ws.keepWithdrawer(decide.Withdrawer(ws.withdrawer(e.UserID), e.Evidence(ev.ID)).Write)
	case *RailEvent:
		p := ws.byCoinflowID(e.WithdrawID)
		if p == nil || p.CoinflowTransaction == nil && p.IdempotencyKey == nil {
			return models.InboxIgnored, NoteUnknownWithdraw, nil
		}
		dec, err := decide.Payout(railCandidates(p), e.Evidence(ev.ID, p), models.NewID)
		if err != nil {
			return "", "", err
		}
		if dec.Discovered {
			return "", "", fmt.Errorf("rail event for payout %s decided as a new payout", p.ID)
		}
		ws.keep(dec.Write, tx.Now())
	default:
		return "", "", fmt.Errorf("decoded %T", d.Value)
	}
	return models.InboxApplied, "", nil
}

// evidenceKeys are what a batch's events name: the payouts by transaction,
// idempotency key or Coinflow withdraw id, and the withdrawers by user.
type evidenceKeys struct {
	transactions, keys, transferIDs, users []string
}

func (k *evidenceKeys) add(v any) {
	switch e := v.(type) {
	case *WithdrawEvent:
		k.transactions = appendSome(k.transactions, e.Signature)
		k.keys = appendSome(k.keys, e.IdempotencyKey)
	case *RailEvent:
		// A withdraw id is a transaction signature or a transfer id.
		k.transactions = appendSome(k.transactions, e.WithdrawID)
		k.transferIDs = appendSome(k.transferIDs, e.WithdrawID)
	case *KYCEvent:
		k.users = appendSome(k.users, e.UserID)
	}
}

func appendSome(s []string, v string) []string {
	if v == "" {
		return s
	}
	return append(s, v)
}

// workingSet holds the records a batch touches: as loaded (to write the
// difference and guard against writers in between) and as the batch's
// decisions so far have left them.
type workingSet struct {
	loaded     map[string]models.Payout // by id, as read
	byTxn      map[string]*models.Payout
	byKey      map[string]*models.Payout
	byTransfer map[string]*models.Payout // the lowest id holding it, as PayoutByCoinflowID picks
	writes     []models.PayoutWrite
	discovered int // payouts the batch discovered

	wLoaded  map[string]models.Withdrawer // by user, as read
	wCur     map[string]*models.Withdrawer
	wWrites  map[string]*models.WithdrawerWrite
	wOrder   []string
	wHistory []models.WithdrawerHistory // every withdrawer's, in event order
}

func loadWorkingSet(ctx context.Context, tx *models.Store, k *evidenceKeys, lockNew bool) (*workingSet, error) {
	ws := &workingSet{
		loaded: map[string]models.Payout{}, byTxn: map[string]*models.Payout{}, byKey: map[string]*models.Payout{},
		byTransfer: map[string]*models.Payout{},
		wLoaded:    map[string]models.Withdrawer{}, wCur: map[string]*models.Withdrawer{}, wWrites: map[string]*models.WithdrawerWrite{},
	}
	ps, err := tx.PayoutsForEvidence(ctx, k.transactions, k.keys, k.transferIDs)
	if err != nil {
		return nil, err
	}
	ws.addLoaded(ps)
	// What the batch may discover, when told to: lock it, then read what
	// another applier recorded while this one waited.
	newTxns, newKeys := ws.unknown(k.transactions), ws.unknown(k.keys)
	if lockNew && len(newTxns)+len(newKeys) > 0 {
		if err := tx.PayoutLockNew(ctx, append(slices.Clone(newTxns), newKeys...)); err != nil {
			return nil, err
		}
		more, err := tx.PayoutsForEvidence(ctx, newTxns, newKeys, nil)
		if err != nil {
			return nil, err
		}
		ws.addLoaded(more)
	}
	wds, err := tx.WithdrawersForUpdate(ctx, k.users)
	if err != nil {
		return nil, err
	}
	for i := range wds {
		ws.wLoaded[wds[i].UserID] = wds[i]
		ws.wCur[wds[i].UserID] = &wds[i]
	}
	return ws, nil
}

func (ws *workingSet) addLoaded(ps []models.Payout) {
	for i := range ps {
		if _, dup := ws.loaded[ps[i].ID]; dup {
			continue
		}
		ws.loaded[ps[i].ID] = ps[i]
		ws.index(nil, &ps[i])
	}
}

// unknown are the values no loaded payout holds as its transaction or
// idempotency key.
func (ws *workingSet) unknown(vals []string) []string {
	var out []string
	for _, v := range vals {
		if ws.byTxn[v] == nil && ws.byKey[v] == nil {
			out = append(out, v)
		}
	}
	return out
}

// index files p (which replaces old, when not nil) under its identifiers.
func (ws *workingSet) index(old, p *models.Payout) {
	if old != nil {
		for _, f := range []struct {
			m map[string]*models.Payout
			v *string
		}{{ws.byTxn, old.CoinflowTransaction}, {ws.byKey, old.IdempotencyKey}, {ws.byTransfer, old.CoinflowTransferID}} {
			if f.v != nil && f.m[*f.v] == old {
				delete(f.m, *f.v)
			}
		}
	}
	if v := p.CoinflowTransaction; v != nil {
		ws.byTxn[*v] = p
	}
	if v := p.IdempotencyKey; v != nil {
		ws.byKey[*v] = p
	}
	if v := p.CoinflowTransferID; v != nil {
		if cur := ws.byTransfer[*v]; cur == nil || cur == old || p.ID < cur.ID {
			ws.byTransfer[*v] = p
		}
	}
}

// candidates is PayoutCandidatesFor, answered from the working set.
func (ws *workingSet) candidates(transaction, key string) models.PayoutCandidates {
	var c models.PayoutCandidates
	if transaction != "" {
		c.ByTransaction = ws.byTxn[transaction]
	}
	if key != "" {
		c.ByKey = ws.byKey[key]
	}
	return c
}

// byCoinflowID is PayoutByCoinflowID, answered from the working set.
func (ws *workingSet) byCoinflowID(id string) *models.Payout {
	if p := ws.byTxn[id]; p != nil {
		return p
	}
	return ws.byTransfer[id]
}

// keep records a payout decision: its new record replaces the old one for
// the events after it, as a fresh read would give it.
func (ws *workingSet) keep(w models.PayoutWrite, now time.Time) {
	_, wasLoaded := ws.loaded[w.New.ID]
	models.PayoutAsStored(w.New, w.Old == nil && !wasLoaded, now)
	ws.index(w.Old, w.New)
	ws.writes = append(ws.writes, w)
}

func (ws *workingSet) withdrawer(userID string) *models.Withdrawer { return ws.wCur[userID] }

// keepWithdrawer records a withdrawer decision. The writes of one
// withdrawer are merged: the first one's Old, the last one's New, and every
// finding in order (webhook decisions about withdrawers raise and resolve
// nothing, so the order of findings cannot differ). The history rows of
// all withdrawers are kept in event order, to be written together.
func (ws *workingSet) keepWithdrawer(w models.WithdrawerWrite) {
	id := w.New.UserID
	ws.wCur[id] = w.New
	m, ok := ws.wWrites[id]
	if !ok {
		merged := models.WithdrawerWrite{}
		if old, loaded := ws.wLoaded[id]; loaded {
			merged.Old = &old
		}
		m = &merged
		ws.wWrites[id] = m
		ws.wOrder = append(ws.wOrder, id)
	}
	m.New = w.New
	for _, h := range w.History {
		h.UserID = id
		ws.wHistory = append(ws.wHistory, h)
	}
	m.Raise = append(m.Raise, w.Raise...)
	m.Resolve = append(m.Resolve, w.Resolve...)
}

func (ws *workingSet) flush(ctx context.Context, tx *models.Store) error {
	if err := tx.PayoutWriteSet(ctx, ws.loaded, ws.writes); err != nil {
		return err
	}
	for _, id := range ws.wOrder {
		if _, err := tx.WithdrawerWrite(ctx, *ws.wWrites[id]); err != nil {
			return err
		}
	}
	return tx.WithdrawerHistoryInsert(ctx, ws.wHistory)
}
