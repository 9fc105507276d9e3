package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// Fixed attributes of every generated payout.
const (
	benchSpeed       = coinflowtest.SpeedStandard
	benchCurrency    = "USD"
	benchFeeCents    = 25
	benchAccount     = "bnk_bench"
	benchUsers       = 5000
	benchSpan        = 20 * 24 * time.Hour // inside reconcile's 35-day lookback
	benchMinStep     = time.Millisecond    // Coinflow's times have millisecond precision
	benchDisagreeMod = 100                 // every 100th payout disagrees: 1%
)

// Disagreements between the two records of one payout.
const (
	agree          = ""
	amountDiffers  = "amount"
	statusDisagree = "status"
)

// dataset describes n payouts, as payoutd records them and as Coinflow
// lists them. Payout i is created at start + i*step, so Coinflow's list
// order (createdAt ascending) is index order, as SeedSynthetic requires.
// The records agree on everything reconciliation compares, except that
// every benchDisagreeMod-th one disagrees, on the amount or the status in
// turn.
type dataset struct {
	n     int
	start time.Time
	step  time.Duration
}

// newDataset spreads n payouts over benchSpan ending two hours before now:
// inside the lookback window, past the missing-at-Coinflow grace, and all
// completed (an hour after creation) before the previous wallet snapshot,
// so that the balance has nothing to explain.
func newDataset(n int, now time.Time) dataset {
	step := max((benchSpan / time.Duration(max(n, 1))).Truncate(benchMinStep), benchMinStep)
	end := now.Add(-2 * time.Hour).Truncate(time.Second)
	return dataset{n: n, start: end.Add(-time.Duration(n) * step), step: step}
}

// payout is one generated payout with both sides' views of it.
type payout struct {
	id, transaction, idempotencyKey, transferID, userID string
	createdAt, completedAt, expectedAt                  time.Time
	localCents, coinflowCents                           int64
	localStatus, coinflowStatus                         string
	disagreement                                        string
}

func (d dataset) payout(i int) payout {
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], uint64(i))
	sum := sha256.Sum256(seed[:])
	created := d.start.Add(time.Duration(i) * d.step)
	cents := 100 + int64(binary.BigEndian.Uint32(sum[:4])%1_000_000)
	p := payout{
		id:             fmt.Sprintf("0190a5e0-0000-7000-8000-%012x", i),
		transaction:    hex.EncodeToString(sum[:]),
		idempotencyKey: fmt.Sprintf("bench-%010d", i),
		transferID:     fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", sum[4:8], sum[8:10], i%4096, (i/4096)%4096, i),
		userID:         fmt.Sprintf("bench-user-%04d", i%benchUsers),
		createdAt:      created,
		completedAt:    created.Add(time.Hour),
		expectedAt:     created.Add(24 * time.Hour),
		localCents:     cents,
		coinflowCents:  cents,
		localStatus:    coinflowtest.StatusCompleted,
		coinflowStatus: coinflowtest.StatusCompleted,
	}
	if i%benchDisagreeMod == benchDisagreeMod-1 {
		if (i/benchDisagreeMod)%2 == 0 {
			p.disagreement, p.coinflowCents = amountDiffers, cents+100
		} else {
			// Coinflow still says pending what payoutd has completed: local
			// state ahead, a status_mismatch.
			p.disagreement, p.coinflowStatus = statusDisagree, coinflowtest.StatusPending
		}
	}
	return p
}

// withdraw is payout i as the emulator lists it.
func (d dataset) withdraw(i int) coinflowtest.Withdraw {
	p := d.payout(i)
	return coinflowtest.Withdraw{
		Transaction: p.transaction, TransferID: p.transferID, IdempotencyKey: p.idempotencyKey,
		UserID: p.userID, Account: benchAccount, AmountCents: p.coinflowCents, Currency: benchCurrency,
		RequestedSpeed: benchSpeed, EffectiveSpeed: benchSpeed, Status: p.coinflowStatus,
		MerchantFeeCents: benchFeeCents, CreatedAt: p.createdAt, UpdatedAt: p.completedAt,
		ExpectedDeliveryDate: p.expectedAt,
	}
}

// expected counts the disagreements the dataset holds, by kind.
func (d dataset) expected() (amounts, statuses int) {
	for i := benchDisagreeMod - 1; i < d.n; i += benchDisagreeMod {
		if (i/benchDisagreeMod)%2 == 0 {
			amounts++
		} else {
			statuses++
		}
	}
	return amounts, statuses
}
